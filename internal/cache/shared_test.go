package cache

import "testing"

func TestRedisOptionsForms(t *testing.T) {
	cases := []struct {
		url     string
		addrs   int
		master  string
		cluster bool
		db      int
	}{
		{"redis://127.0.0.1:6379/2", 1, "", false, 2},
		{"redis://a:7000?addr=b:7000&addr=c:7000", 3, "", false, 0},
		{"redis://a:7000?cluster=true", 1, "", true, 0},
		{"redis://s1:26379?addr=s2:26379&master_name=mymaster", 2, "mymaster", false, 0},
	}
	for _, c := range cases {
		o, err := RedisOptions(c.url)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if len(o.Addrs) != c.addrs || o.MasterName != c.master || o.IsClusterMode != c.cluster || o.DB != c.db {
			t.Errorf("%s: %+v", c.url, o)
		}
	}
	if _, err := RedisOptions("::nonsense"); err == nil {
		t.Error("a malformed URL was accepted")
	}
}
