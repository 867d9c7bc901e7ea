package news

import "context"

// Role is what a caller may do. A request without a key is a Reader.
type Role string

const (
	RoleReader  Role = "READER"
	RolePartner Role = "PARTNER"
	RoleEditor  Role = "EDITOR"
	RoleAdmin   Role = "ADMIN"
)

// Viewer is who is asking.
type Viewer struct {
	Role  Role
	KeyID string
}

// SeesUnpublished reports whether the viewer may see drafts, scheduled and
// archived stories.
func (v Viewer) SeesUnpublished() bool { return v.Role == RoleEditor || v.Role == RoleAdmin }

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer in ctx, a Reader when there is none.
func ViewerFrom(ctx context.Context) Viewer {
	if v, ok := ctx.Value(viewerKey{}).(Viewer); ok {
		return v
	}
	return Viewer{Role: RoleReader}
}
