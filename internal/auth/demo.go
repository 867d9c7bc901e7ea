package auth

import (
	"context"
	"log/slog"

	"github.com/newsgraph/newsgraph/internal/news"
)

// SeedDemoKeys gives a new user of the embedded demo an EDITOR and an ADMIN
// key when the database has none yet, and logs them this once. A start on a
// real MongoDB must never call it: production keys are issued on purpose.
func SeedDemoKeys(ctx context.Context, keys *Keys, log *slog.Logger) error {
	existing, err := keys.List(ctx)
	if err != nil || len(existing) > 0 {
		return err
	}
	for _, role := range []news.Role{news.RoleEditor, news.RoleAdmin} {
		secret, k, err := keys.Create(ctx, "demo "+string(role), role, DefaultRatePerMinute)
		if err != nil {
			return err
		}
		log.Info("demo API key created; it is shown only now", "role", string(role), "id", k.ID,
			"key", secret, "use", "Authorization: Bearer "+secret)
	}
	return nil
}

// RegisterDemoEditorKey makes secret (DEMO_EDITOR_KEY) a working EDITOR key,
// so a README can hand a new user a key it already knows.
func RegisterDemoEditorKey(ctx context.Context, keys *Keys, secret string) error {
	_, err := keys.Register(ctx, secret, "demo editor (DEMO_EDITOR_KEY)", news.RoleEditor, DefaultRatePerMinute)
	return err
}
