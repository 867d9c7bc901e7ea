package graph

import (
	"strings"

	"github.com/newsgraph/newsgraph/graph/model"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// The schema names events ARTICLE_PUBLISHED; payloads, as the Standard
// Webhooks spec's examples do, article.published.

func webhookEventOut(e webhook.Event) model.WebhookEvent {
	return model.WebhookEvent(strings.ToUpper(strings.ReplaceAll(string(e), ".", "_")))
}

func webhookEventsOut(es []webhook.Event) []model.WebhookEvent {
	out := make([]model.WebhookEvent, len(es))
	for i, e := range es {
		out[i] = webhookEventOut(e)
	}
	return out
}

func webhookEventsIn(es []model.WebhookEvent) []webhook.Event {
	out := make([]webhook.Event, len(es))
	for i, e := range es {
		out[i] = webhook.Event(strings.ToLower(strings.Replace(string(e), "_", ".", 1)))
	}
	return out
}

// optionalInt and optionalString are null for the zero value.
func optionalInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func optionalString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
