package gormstore

import (
	"context"
	"fmt"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/internal/database"
)

// eventRow is a row of audit_events. Rows are only ever added.
type eventRow struct {
	// ID is numbered by the database; it orders events that share a time.
	ID int64     `gorm:"column:id;primaryKey"`
	At time.Time `gorm:"column:at"`
	// Sub is NULL when no user is known, such as a sign-in attempt for an
	// address nobody registered.
	Sub       *string `gorm:"column:sub"`
	Kind      string  `gorm:"column:kind"`
	Outcome   string  `gorm:"column:outcome"`
	SessionID string  `gorm:"column:session_id"`
	IP        string  `gorm:"column:ip"`
	UserAgent string  `gorm:"column:user_agent"`
	Detail    string  `gorm:"column:detail"`
}

// TableName names the table explicitly, so it never depends on gorm's naming
// strategy.
func (eventRow) TableName() string { return "audit_events" }

func (r *eventRow) event() identity.Event {
	e := identity.Event{
		ID:        r.ID,
		At:        r.At.UTC(),
		Kind:      identity.EventKind(r.Kind),
		Outcome:   r.Outcome,
		SessionID: r.SessionID,
		IP:        r.IP,
		UserAgent: r.UserAgent,
		Detail:    r.Detail,
	}
	if r.Sub != nil {
		e.Sub = *r.Sub
	}
	return e
}

// AddEvent appends e to the audit trail; e.ID is ignored (the database
// numbers events) and a zero e.At means now.
func (s *Store) AddEvent(ctx context.Context, e identity.Event) error {
	row := eventRow{
		At:        database.Time(e.At),
		Kind:      string(e.Kind),
		Outcome:   e.Outcome,
		SessionID: e.SessionID,
		IP:        e.IP,
		UserAgent: e.UserAgent,
		Detail:    e.Detail,
	}
	if row.At.IsZero() {
		row.At = s.now()
	}
	if e.Sub != "" {
		row.Sub = &e.Sub
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("gormstore: add %s event: %w", e.Kind, err)
	}
	return nil
}

// Events returns sub's most recent events, at most limit of them, newest
// first. limit must be positive: the trail grows without bound, so "no
// limit" is not on offer.
func (s *Store) Events(ctx context.Context, sub string, limit int) ([]identity.Event, error) {
	if limit < 1 {
		return nil, fmt.Errorf("gormstore: events: limit must be positive, got %d", limit)
	}
	var rows []eventRow
	// The index on (sub, at) serves both the filter and the order.
	err := s.db.WithContext(ctx).
		Where("sub = ?", sub).
		Order("at DESC, id DESC").
		Limit(limit).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("gormstore: events: %w", err)
	}
	events := make([]identity.Event, len(rows))
	for i := range rows {
		events[i] = rows[i].event()
	}
	return events, nil
}
