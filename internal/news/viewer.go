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
	// KeyName is the name the key was given ("night desk"), recorded with
	// every change the viewer makes.
	KeyName string
}

// Rank orders roles by what they may do: a role may do whatever a lower
// one may.
func (r Role) Rank() int {
	switch r {
	case RolePartner:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a role a key can carry.
func (r Role) Valid() bool { return r.Rank() > 0 }

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

// RequireRole lets the viewer in ctx through when their role is at least
// role: a reader is told to authenticate, a lower role is forbidden.
func RequireRole(ctx context.Context, role Role) error {
	v := ViewerFrom(ctx)
	switch {
	case v.Role.Rank() >= role.Rank():
		return nil
	case v.Role.Rank() == 0:
		return ErrUnauthenticated
	default:
		return Forbidden("this needs a key with role " + string(role) + " or higher")
	}
}
