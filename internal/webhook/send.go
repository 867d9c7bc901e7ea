package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// MaxResponseRead bounds what is read of a receiver's answer: only its
// status counts, and the connection is reused if the rest was small.
const MaxResponseRead = 64 << 10

// sender makes delivery attempts over a client that refuses private
// addresses at dial time, after DNS resolution, so a receiver's name that
// later resolves to an internal address (DNS rebinding) is refused too.
type sender struct {
	client  *http.Client
	timeout time.Duration
}

func newSender(g *guard, timeout time.Duration) *sender {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if g.allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if ip := net.ParseIP(host); err != nil || ip == nil || !public(ip) {
			return errPrivateAddress
		}
		return nil
	}}
	return &sender{timeout: timeout, client: &http.Client{
		Timeout: timeout,
		// Never followed: a redirect could point anywhere, and the
		// receiver is the address the admin registered, no other.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:                 nil, // an environment proxy would dial for us, unchecked
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
	}}
}

// send makes one attempt; it returns the status code (0 without an answer)
// and, unless the receiver took it (2xx), what went wrong in safe words.
func (s *sender) send(ctx context.Context, h *Webhook, dl *Delivery, at time.Time) (int, string) {
	signer, err := standardwebhooks.NewWebhook(h.Secret)
	if err != nil {
		return 0, "the webhook's secret is unusable"
	}
	sig, err := signer.Sign(dl.ID, at, dl.Body)
	if err != nil {
		return 0, "signing failed"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(dl.Body))
	if err != nil {
		return 0, "the webhook's URL is unusable"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "newsgraph-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, dl.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	res, err := s.client.Do(req)
	if err != nil {
		return 0, s.explain(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, MaxResponseRead))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return res.StatusCode, ""
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return res.StatusCode, "the receiver redirected; redirects are not followed"
	}
	return res.StatusCode, "the receiver answered " + strconv.Itoa(res.StatusCode)
}

// explain puts a transport failure in words an admin can act on, without
// the addresses and internals Go's errors carry.
func (s *sender) explain(err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, errPrivateAddress):
		return "refused: the receiver's address is private, loopback or link-local"
	case errors.As(err, &dnsErr):
		return "the receiver's host does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "no answer within " + s.timeout.String()
	case errors.As(err, &certErr):
		return "the receiver's TLS certificate was not accepted"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed before an answer"
	}
	return "the connection failed"
}
