package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// Webhook collections. The outbox and the pending deliveries hold only what
// is still waiting, so the dispatcher's scans stay small on FerretDB (which
// filters anything but _id equality in memory); finished deliveries move to
// webhook_deliveries. Claims are inserted, never updated: an insert on an
// _id that exists fails atomically on every backend, whereas FerretDB's
// findAndModify reads and then writes (not atomic), so a compare-and-set
// lease on it could let two instances make the same attempt.
const (
	webhooksColl          = "webhooks"
	webhookOutboxColl     = "webhook_outbox"
	webhookPendingColl    = "webhook_pending"
	webhookDeliveriesColl = "webhook_deliveries"
	webhookClaimsColl     = "webhook_claims"
)

var _ webhook.Store = (*Store)(nil)

func (s *Store) coll(name string) *mongo.Collection { return s.db.Collection(name) }

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// InsertWebhook implements webhook.Store.
func (s *Store) InsertWebhook(ctx context.Context, w *webhook.Webhook) error {
	if err := insertOne(ctx, s, s.coll(webhooksColl), w); err != nil {
		return fmt.Errorf("webhooks insert: %w", err)
	}
	return nil
}

// Webhooks implements webhook.Store: oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]*webhook.Webhook, error) {
	return findAll[webhook.Webhook](ctx, s, s.coll(webhooksColl), bson.D{},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
}

// WebhookByID implements webhook.Store.
func (s *Store) WebhookByID(ctx context.Context, id string) (*webhook.Webhook, error) {
	return findOne[webhook.Webhook](ctx, s, s.coll(webhooksColl), byID(id))
}

// DeleteWebhook implements webhook.Store.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	res, err := s.coll(webhooksColl).DeleteOne(ctx, byID(id))
	if err != nil {
		return fmt.Errorf("webhooks delete: %w", err)
	}
	if res.DeletedCount == 0 {
		return news.ErrNotFound
	}
	return nil
}

// insertOnce inserts doc unless its _id is there already.
func (s *Store) insertOnce(ctx context.Context, coll string, doc any) error {
	if err := insertOne(ctx, s, s.coll(coll), doc); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("%s insert: %w", coll, err)
	}
	return nil
}

// InsertOutboxEvent implements webhook.Store.
func (s *Store) InsertOutboxEvent(ctx context.Context, e *webhook.OutboxEvent) error {
	return s.insertOnce(ctx, webhookOutboxColl, e)
}

// OutboxEvents implements webhook.Store.
func (s *Store) OutboxEvents(ctx context.Context) ([]*webhook.OutboxEvent, error) {
	return findAll[webhook.OutboxEvent](ctx, s, s.coll(webhookOutboxColl), bson.D{}, options.Find())
}

// DeleteOutboxEvent implements webhook.Store.
func (s *Store) DeleteOutboxEvent(ctx context.Context, id string) error {
	return s.deleteByID(ctx, webhookOutboxColl, id)
}

func (s *Store) deleteByID(ctx context.Context, coll, id string) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	if _, err := s.coll(coll).DeleteOne(ctx, byID(id)); err != nil {
		return fmt.Errorf("%s delete: %w", coll, err)
	}
	return nil
}

// InsertDelivery implements webhook.Store.
func (s *Store) InsertDelivery(ctx context.Context, d *webhook.Delivery) error {
	return s.insertOnce(ctx, webhookPendingColl, d)
}

// PendingDeliveries implements webhook.Store.
func (s *Store) PendingDeliveries(ctx context.Context) ([]*webhook.Delivery, error) {
	return findAll[webhook.Delivery](ctx, s, s.coll(webhookPendingColl), bson.D{}, options.Find())
}

// PendingDelivery implements webhook.Store.
func (s *Store) PendingDelivery(ctx context.Context, id string) (*webhook.Delivery, error) {
	return findOne[webhook.Delivery](ctx, s, s.coll(webhookPendingColl), byID(id))
}

type attemptClaim struct {
	ID         string    `bson:"_id"`
	Delivery   string    `bson:"delivery"`
	Owner      string    `bson:"owner"`
	LeaseUntil time.Time `bson:"leaseUntil"`
}

func claimID(deliveryID string, n int) string { return deliveryID + "/" + strconv.Itoa(n) }

// ClaimAttempt implements webhook.Store.
func (s *Store) ClaimAttempt(ctx context.Context, deliveryID string, n int, owner string, leaseUntil time.Time) (bool, error) {
	err := insertOne(ctx, s, s.coll(webhookClaimsColl),
		attemptClaim{ID: claimID(deliveryID, n), Delivery: deliveryID, Owner: owner, LeaseUntil: leaseUntil})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("webhook_claims insert: %w", err)
	}
	return true, nil
}

// AttemptLease implements webhook.Store.
func (s *Store) AttemptLease(ctx context.Context, deliveryID string, n int) (time.Time, error) {
	c, err := findOne[attemptClaim](ctx, s, s.coll(webhookClaimsColl), byID(claimID(deliveryID, n)))
	if err != nil {
		return time.Time{}, err
	}
	return c.LeaseUntil, nil
}

// ReleaseAttempt implements webhook.Store.
func (s *Store) ReleaseAttempt(ctx context.Context, deliveryID string, n int) error {
	return s.deleteByID(ctx, webhookClaimsColl, claimID(deliveryID, n))
}

// RecordAttempt implements webhook.Store. The filter keeps an attempt from
// being recorded twice (a lost attempt two instances noticed at once).
func (s *Store) RecordAttempt(ctx context.Context, deliveryID string, a webhook.Attempt, next time.Time) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, err := s.coll(webhookPendingColl).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: deliveryID}, {Key: "attemptCount", Value: bson.D{{Key: "$lt", Value: a.Number}}}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "attemptCount", Value: a.Number}, {Key: "nextAttemptAt", Value: next}}},
			{Key: "$push", Value: bson.D{{Key: "attempts", Value: a}}},
		})
	if err != nil {
		return fmt.Errorf("webhook_pending update: %w", err)
	}
	return nil
}

// FinishDelivery implements webhook.Store: the delivery goes to the
// history (a replace, so repeating it is harmless), then leaves the pending
// set, then its claims go.
func (s *Store) FinishDelivery(ctx context.Context, d *webhook.Delivery) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	if _, err := s.coll(webhookDeliveriesColl).ReplaceOne(ctx, byID(d.ID), d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("webhook_deliveries replace: %w", err)
	}
	if _, err := s.coll(webhookPendingColl).DeleteOne(ctx, byID(d.ID)); err != nil {
		return fmt.Errorf("webhook_pending delete: %w", err)
	}
	if _, err := s.coll(webhookClaimsColl).DeleteMany(ctx, bson.D{{Key: "delivery", Value: d.ID}}); err != nil {
		return fmt.Errorf("webhook_claims delete: %w", err)
	}
	return nil
}

// Deliveries implements webhook.Store: pending and finished, newest first.
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]*webhook.Delivery, error) {
	filter := bson.D{{Key: "webhookId", Value: webhookID}}
	newest := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit))
	pending, err := findAll[webhook.Delivery](ctx, s, s.coll(webhookPendingColl), filter, newest)
	if err != nil {
		return nil, err
	}
	done, err := findAll[webhook.Delivery](ctx, s, s.coll(webhookDeliveriesColl), filter, newest)
	if err != nil {
		return nil, err
	}
	all := append(pending, done...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}
