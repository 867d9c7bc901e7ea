# newsgraph's edge: Varnish 7.1 with varnish-modules' xkey
# (Debian: apt-get install varnish varnish-modules). See docs/EDGE.md.
#
# It keeps what the service says it may (Surrogate-Control), for as long as
# it says, under the tags of its Surrogate-Key header; the service purges by
# those tags on every write (EDGE_PURGE_URLS=http://this-varnish/).
vcl 4.1;

import std;
import xkey;

# The service. A deployment changes the host and the port line.
backend newsgraph {
    .host = "127.0.0.1";
    .port = "8080";
    .probe = {
        .url = "/healthz";
        .interval = 5s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;
    }
}

# Who may purge: the service's instances. Add their addresses here.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the tags to purge in an xkey-purge header"));
        }
        # A hard purge: what a write changed is gone, not served stale.
        set req.http.x-purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.x-purged));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Editors and partners (a key), and previews (a token in the query):
    # never answered from the cache, never stored in it.
    if (req.http.Authorization || req.url ~ "(?i)preview") {
        return (pass);
    }
    # The API sets no cookies; a site's cookies must not split the cache.
    unset req.http.Cookie;
    # While the service is healthy, stale copies bridge a refetch for a
    # minute at most; while it is down, up to what stale-if-error allows.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 60s;
    }
    # The cache key is the builtin one: the full URL (an APQ GET's query
    # string included) and the host.
    return (hash);
}

sub vcl_backend_response {
    # Only what the service marks for the edge is kept: a 200 with a
    # Surrogate-Control max-age. Errors, mutations and private answers say
    # no-store; anything unmarked is not kept either.
    if (beresp.status == 200 && !beresp.http.Set-Cookie
        && beresp.http.Surrogate-Control ~ "max-age=[0-9]+"
        && beresp.http.Surrogate-Control !~ "no-store") {
        set beresp.ttl = std.duration(regsub(beresp.http.Surrogate-Control,
            "^.*max-age=([0-9]+).*$", "\1") + "s", 0s);
        set beresp.grace = 0s;
        if (beresp.http.Surrogate-Control ~ "stale-if-error=[0-9]+") {
            set beresp.grace = std.duration(regsub(beresp.http.Surrogate-Control,
                "^.*stale-if-error=([0-9]+).*$", "\1") + "s", 0s);
        }
        # xkey indexes the object under the tags in its xkey header; the
        # service names them in Surrogate-Key, as Fastly reads them.
        set beresp.http.xkey = beresp.http.Surrogate-Key;
        # Surrogate-Control is for this cache alone.
        unset beresp.http.Surrogate-Control;
        return (deliver);
    }
    # Not for the edge: remember that for a while so requests for it go
    # straight through instead of queueing behind each other.
    set beresp.uncacheable = true;
    set beresp.ttl = 120s;
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.xkey;
    # Whether the edge answered: HIT, MISS (fetched and kept) or PASS.
    if (obj.uncacheable) {
        set resp.http.X-Edge-Cache = "PASS";
    } else if (obj.hits > 0) {
        set resp.http.X-Edge-Cache = "HIT";
    } else {
        set resp.http.X-Edge-Cache = "MISS";
    }
}
