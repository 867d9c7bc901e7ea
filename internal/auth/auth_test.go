package auth_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const publicQuery = `{ sections { slug } }`

func TestNoKeyIsAReaderAndBadKeysAreRefused(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	res := svc.Query(t, publicQuery, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("reader refused: %+v", res.Errors)
	}
	if !strings.Contains(res.Header.Get("Vary"), "Authorization") {
		t.Fatalf("responses do not vary by Authorization: %q", res.Header.Values("Vary"))
	}
	for _, header := range []string{
		"Bearer ng_not-a-key-this-service-issued", "Bearer", "Basic dXNlcjpwYXNz", "ng_bare-key-without-scheme",
	} {
		res := svc.Query(t, publicQuery, nil, "Authorization", header)
		if res.Code() != "UNAUTHENTICATED" || string(res.Data) != "" && string(res.Data) != "null" {
			t.Errorf("%q: code %q data %s, want UNAUTHENTICATED and no data", header, res.Code(), res.Data)
		}
	}
}

func TestRolesGuardFields(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	const list = `{ apiKeys { id name role } }`
	cases := []struct {
		who, header, code string
	}{
		{"reader", "", "UNAUTHENTICATED"},
		{"partner", svc.NewKey(t, news.RolePartner), "FORBIDDEN"},
		{"editor", svc.NewKey(t, news.RoleEditor), "FORBIDDEN"},
		{"admin", svc.NewKey(t, news.RoleAdmin), ""},
	}
	for _, c := range cases {
		var res *testenv.Response
		if c.header == "" {
			res = svc.Query(t, list, nil)
		} else {
			res = svc.Query(t, list, nil, "Authorization", c.header)
		}
		if res.Code() != c.code {
			t.Errorf("%s: code %q, want %q (%+v)", c.who, res.Code(), c.code, res.Errors)
		}
	}
}

func TestAdminIssuesListsAndRevokesKeys(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	admin := svc.NewKey(t, news.RoleAdmin)
	res := svc.Query(t, `mutation { createApiKey(name: "night desk", role: EDITOR, ratePerMinute: 120) {
		key apiKey { id name role ratePerMinute revokedAt } } }`, nil, "Authorization", admin)
	var created struct {
		CreateApiKey struct {
			Key    string
			ApiKey struct {
				ID, Name, Role string
				RatePerMinute  int
				RevokedAt      *time.Time
			}
		}
	}
	res.Decode(t, &created)
	secret, key := created.CreateApiKey.Key, created.CreateApiKey.ApiKey
	if !strings.HasPrefix(secret, "ng_") || len(secret) < 40 || key.Role != "EDITOR" || key.RatePerMinute != 120 {
		t.Fatalf("created %+v", created)
	}

	// Stored only as a hash: no stored key holds the secret anywhere.
	stored, err := svc.Store.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stored {
		if strings.Contains(k.Hash+k.Name+k.ID, secret) || strings.Contains(k.Hash, secret[3:]) {
			t.Fatalf("secret stored in %+v", k)
		}
	}

	// The new key works as an editor.
	editor := "Bearer " + secret
	if res := svc.Query(t, `{ articles(filter: {status: DRAFT}) { edges { cursor } } }`, nil, "Authorization", editor); len(res.Errors) > 0 {
		t.Fatalf("new editor key refused: %+v", res.Errors)
	}
	list := svc.Query(t, `{ apiKeys { id name } }`, nil, "Authorization", admin)
	if !strings.Contains(string(list.Data), "night desk") || strings.Contains(string(list.Data), secret) {
		t.Fatalf("apiKeys = %s", list.Data)
	}

	res = svc.Query(t, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": key.ID},
		"Authorization", admin)
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), "revokedAt\":\"20") {
		t.Fatalf("revoke: %s %+v", res.Data, res.Errors)
	}
	if res := svc.Query(t, publicQuery, nil, "Authorization", editor); res.Code() != "UNAUTHENTICATED" {
		t.Fatalf("revoked key still works: %+v", res.Errors)
	}
	res = svc.Query(t, `mutation { revokeApiKey(id: "key_nope") { id } }`, nil, "Authorization", admin)
	if res.Code() != "BAD_USER_INPUT" {
		t.Fatalf("revoking an unknown key: %+v", res.Errors)
	}
	res = svc.Query(t, `mutation { createApiKey(name: "x", role: EDITOR, ratePerMinute: -1) { key } }`, nil, "Authorization", admin)
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "ratePerMinute" {
		t.Fatalf("negative rate: %+v", res.Errors)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	for name, o := range map[string]testenv.ServiceOptions{
		"redis":      {Redis: rdb, Prefix: prefix},
		"in-process": {},
	} {
		t.Run(name, func(t *testing.T) {
			svc := testenv.NewService(t, o)
			limited := svc.NewKeyWithRate(t, news.RolePartner, 3)
			other := svc.NewKeyWithRate(t, news.RolePartner, 3)
			for i := range 3 {
				if res := svc.Query(t, publicQuery, nil, "Authorization", limited); len(res.Errors) > 0 {
					t.Fatalf("request %d refused: %+v", i+1, res.Errors)
				}
			}
			res := svc.Query(t, publicQuery, nil, "Authorization", limited)
			if res.Code() != "RATE_LIMITED" {
				t.Fatalf("4th request in a minute at 3/min: %+v", res.Errors)
			}
			retry, _ := res.Errors[0].Extensions["retryAfterSeconds"].(float64)
			if retry < 1 || retry > 20 {
				t.Fatalf("retryAfterSeconds = %v", res.Errors[0].Extensions["retryAfterSeconds"])
			}
			if h := res.Header.Get("Retry-After"); h != strconv.Itoa(int(retry)) {
				t.Fatalf("Retry-After header %q, extension %v", h, retry)
			}
			// Limits are per key, and readers are not limited here.
			if res := svc.Query(t, publicQuery, nil, "Authorization", other); len(res.Errors) > 0 {
				t.Fatalf("another key was limited too: %+v", res.Errors)
			}
			for range 10 {
				if res := svc.Query(t, publicQuery, nil); len(res.Errors) > 0 {
					t.Fatalf("reader limited: %+v", res.Errors)
				}
			}
		})
	}
}

// A key that cannot be checked (database down) gets an internal error, never
// a reader's answer.
func TestUncheckableKeyIsNotAReader(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	editor := svc.NewKey(t, news.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res := svc.Query(t, publicQuery, nil, "Authorization", editor)
	if res.Code() != "INTERNAL_SERVER_ERROR" || string(res.Data) != "" && string(res.Data) != "null" {
		t.Fatalf("code %q data %s", res.Code(), res.Data)
	}
}
