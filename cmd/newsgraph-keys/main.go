// Command newsgraph-keys issues, lists and revokes API keys, on the same
// database the server uses (MONGODB_URI, MONGODB_DATABASE, DATA_DIR).
//
//	newsgraph-keys create -name "night desk" -role EDITOR [-rate 600]
//	newsgraph-keys list
//	newsgraph-keys revoke <key id>
//
// On the embedded default it opens DATA_DIR itself, so the server must not be
// running: FerretDB's SQLite files cannot be shared by two processes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/news"
)

const usage = `usage:
  newsgraph-keys create -name NAME -role PARTNER|EDITOR|ADMIN [-rate PER_MINUTE]
  newsgraph-keys list
  newsgraph-keys revoke KEY_ID
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "newsgraph-keys:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	st, closeDB, err := devdb.OpenOffline(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	keys := auth.NewKeys(st)

	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("create", flag.ContinueOnError)
		name := fs.String("name", "", "who or what the key is for")
		role := fs.String("role", "", "PARTNER, EDITOR or ADMIN")
		rate := fs.Int("rate", auth.DefaultRatePerMinute, "requests per minute")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		secret, k, err := keys.Create(ctx, *name, news.Role(strings.ToUpper(*role)), *rate)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "id:   %s\nname: %s\nrole: %s\nrate: %d/min\nkey:  %s\n\nThe key is shown only now; send it as: Authorization: Bearer %s\n",
			k.ID, k.Name, k.Role, k.RatePerMinute, secret, secret)
	case "list":
		list, err := keys.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tRATE/MIN\tCREATED\tREVOKED")
		for _, k := range list {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", k.ID, k.Name, k.Role, k.RatePerMinute,
				k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if len(args) != 2 {
			return fmt.Errorf("revoke takes one key ID\n%s", usage)
		}
		k, err := keys.Revoke(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (%s) at %s\n", k.ID, k.Name, k.RevokedAt.Format(time.RFC3339))
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
	return nil
}
