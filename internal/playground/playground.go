// Package playground serves GraphiQL from files built into the binary, so
// the playground works with no internet access (gqlgen's default one loads
// from a CDN). See assets/README.md for what is vendored.
package playground

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets/*.js assets/*.css assets/index.html
var assets embed.FS

// Page serves the playground's HTML (mounted at "/").
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, assets, "assets/index.html")
	})
}

// Assets serves the scripts and styles under /playground/.
func Assets() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/playground/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		// Embedded files have no modification time to revalidate by; an
		// hour keeps a new release visible the same day.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// securityHeaders keep the playground to its own origin: its scripts,
// styles and fonts (inlined as data: URLs in the CSS) and /graphql.
func securityHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; "+
		"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "+
		"frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}
