package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Websocket close codes of refused connections (graphql-transport-ws keeps
// 4400-4499 for such answers).
const (
	closeForbidden       = 4403
	closeTooManyRequests = 4429
)

// KeepAlive is how often live connections are pinged, so proxies keep them
// open and dead peers are noticed.
const KeepAlive = 25 * time.Second

// liveWebsocket is gqlgen's graphql-transport-ws transport with the
// connection's key checked at connection_init, the connection counted
// against its key's limit, and a way for the hub to hang up on a slow
// subscriber.
type liveWebsocket struct {
	ws   transport.Websocket
	keys *auth.Keys
	hub  *live.Hub
	log  *slog.Logger
	// origins a browser may connect from besides this host itself
	// (coder/websocket host patterns).
	origins []string
}

func newLiveWebsocket(o Options) liveWebsocket {
	t := liveWebsocket{keys: o.Keys, hub: o.Live, log: o.Logger, origins: o.AllowedOrigins}
	t.ws = transport.Websocket{
		KeepAlivePingInterval: KeepAlive,
		PingPongInterval:      KeepAlive,
		InitTimeout:           10 * time.Second,
		InitFunc:              t.init,
	}
	return t
}

func (t liveWebsocket) Supports(r *http.Request) bool { return t.ws.Supports(r) }

func (t liveWebsocket) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !t.originAllowed(r) {
		// Answered here: gqlgen would log every refused upgrade as its own
		// failure.
		http.Error(w, "this origin may not open a live connection", http.StatusForbidden)
		return
	}
	if wantsTransportWS(r) {
		t.serveTransportWS(w, r, exec)
		return
	}
	// The legacy graphql-ws protocol stays with gqlgen's transport, one
	// execution per subscriber.
	line := &wsLine{}
	ws := t.ws
	ws.Implementation = line.implementation(t.origins)
	ctx := live.WithHangUp(r.Context(), line.hangUp)
	ctx = context.WithValue(ctx, remoteAddrKey{}, r.RemoteAddr)
	ws.Do(w, r.WithContext(ctx), exec)
}

// init authenticates the connection from its connection_init payload
// ({"Authorization": "Bearer <key>"} or {"headers": {"Authorization": ...}}),
// falling back on the upgrade request's own header, and admits it.
func (t liveWebsocket) init(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	header := p.Authorization()
	if header == "" {
		if h, ok := p["headers"].(map[string]any); ok {
			header = transport.InitPayload(h).Authorization()
		}
	}
	refuse := func(code int, err error) (context.Context, *transport.InitPayload, error) {
		return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), err.Error()), nil, err
	}
	switch {
	case auth.Refusal(ctx) != nil:
		// A bad key on the upgrade request is a bad key, whatever the
		// payload says.
		return refuse(closeForbidden, errors.New("forbidden: unknown or revoked key"))
	case header != "":
		key, err := t.keys.Bearer(ctx, header)
		if err != nil {
			if !errors.Is(err, news.ErrUnauthenticated) {
				t.log.ErrorContext(ctx, "key lookup failed", "err", err)
			}
			return refuse(closeForbidden, errors.New("forbidden: unknown or revoked key"))
		}
		ctx = news.WithViewer(ctx, news.Viewer{Role: key.Role, KeyID: key.ID, KeyName: key.Name})
	}
	release, err := t.hub.Admit(ctx, news.ViewerFrom(ctx), remoteAddr(ctx))
	if err != nil {
		return refuse(closeTooManyRequests, err)
	}
	context.AfterFunc(ctx, release)
	return ctx, nil, nil
}

// originAllowed is coder/websocket's own check, made first: no Origin (not
// a browser), this host, or one of the allowed patterns.
func (t liveWebsocket) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range t.origins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

type remoteAddrKey struct{}

func remoteAddr(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey{}).(string)
	return s
}

// wsLine remembers the accepted connection so the hub can close it.
type wsLine struct {
	conn transport.WebsocketConn
}

func (l *wsLine) implementation(origins []string) transport.WebsocketImplementation {
	return lineAccept{line: l, inner: transport.CoderWebsocketImplementation{
		AcceptOptions: coderws.AcceptOptions{OriginPatterns: origins}}}
}

func (l *wsLine) hangUp(code int, reason string) {
	if l.conn != nil {
		_ = l.conn.WriteClose(code, reason)
	}
}

type lineAccept struct {
	line  *wsLine
	inner transport.WebsocketImplementation
}

func (a lineAccept) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := a.inner.Accept(w, r, o)
	a.line.conn = conn
	return conn, err
}

// liveSSE is gqlgen's Server-Sent Events transport with the stream counted
// against its key's (or address's) connection limit; the key itself was
// checked by the HTTP middleware.
type liveSSE struct {
	sse transport.SSE
	hub *live.Hub
}

func (t liveSSE) Supports(r *http.Request) bool { return t.sse.Supports(r) }

func (t liveSSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// Refused credentials are answered here: run, the subscription would
	// answer the refusal again for every event it waits for.
	var limited *news.RateLimitedError
	switch err := auth.Refusal(r.Context()); {
	case errors.As(err, &limited):
		refuseStream(w, http.StatusTooManyRequests, CodeRateLimited, err)
		return
	case err != nil:
		refuseStream(w, http.StatusUnauthorized, CodeUnauthenticated, errors.New("unknown, revoked or malformed key"))
		return
	}
	release, err := t.hub.Admit(r.Context(), news.ViewerFrom(r.Context()), r.RemoteAddr)
	if err != nil {
		refuseStream(w, http.StatusTooManyRequests, CodeRateLimited, err)
		return
	}
	defer release()
	if !t.serveShared(w, r, exec) {
		t.sse.Do(w, r, exec)
	}
}

func refuseStream(w http.ResponseWriter, status int, code string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": err.Error(), "extensions": map[string]any{"code": code}}}})
}
