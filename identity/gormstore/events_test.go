package gormstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/gormstore"
	"github.com/pinhole/pinhole/internal/database"
	"github.com/pinhole/pinhole/internal/testenv"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		ada, bob := testSub(1), testSub(2)
		event := func(sub string, at time.Time, kind identity.EventKind) identity.Event {
			return identity.Event{
				At: at, Sub: sub, Kind: kind, Outcome: identity.OutcomeSuccess,
				SessionID: "s1", IP: "192.0.2.1", UserAgent: "test-agent/1.0", Detail: string(kind),
			}
		}
		// Added out of order; two share a time, so the database's id
		// decides between them.
		added := []identity.Event{
			event(ada, t0.Add(2*time.Minute), identity.EventRefresh),
			event(ada, t0, identity.EventSignUp),
			event(bob, t0.Add(time.Hour), identity.EventSignIn),
			event(ada, t0.Add(3*time.Minute), identity.EventSignOut),
			event(ada, t0.Add(time.Minute), identity.EventConfirmSignUp),
			event(ada, t0.Add(time.Minute), identity.EventSignIn),
			event("", t0.Add(time.Hour), identity.EventSignIn), // unknown user
		}
		for _, e := range added {
			if err := s.AddEvent(ctx, e); err != nil {
				t.Fatalf("AddEvent(%s): %v", e.Kind, err)
			}
		}

		tests := []struct {
			sub       string
			limit     int
			wantKinds []identity.EventKind
		}{
			{ada, 3, []identity.EventKind{identity.EventSignOut, identity.EventRefresh, identity.EventSignIn}},
			{ada, 10, []identity.EventKind{identity.EventSignOut, identity.EventRefresh, identity.EventSignIn, identity.EventConfirmSignUp, identity.EventSignUp}},
			{bob, 10, []identity.EventKind{identity.EventSignIn}},
			{testSub(404), 10, nil},
		}
		for _, tt := range tests {
			got, err := s.Events(ctx, tt.sub, tt.limit)
			if err != nil {
				t.Fatalf("Events(%s, %d): %v", tt.sub, tt.limit, err)
			}
			var kinds []identity.EventKind
			for _, e := range got {
				kinds = append(kinds, e.Kind)
			}
			if !reflect.DeepEqual(kinds, tt.wantKinds) {
				t.Errorf("Events(%s, %d) kinds = %v, want %v", tt.sub, tt.limit, kinds, tt.wantKinds)
			}
		}

		// Every field round-trips; ids are assigned by the database.
		got, err := s.Events(ctx, bob, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("Events(bob, 1) = %v, %v; want one event", got, err)
		}
		want := added[2]
		want.At = stored(want.At)
		want.ID = got[0].ID
		if got[0].ID == 0 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("bob's event:\ngot  %+v\nwant %+v (with a non-zero ID)", got[0], want)
		}

		if _, err := s.Events(ctx, ada, 0); err == nil {
			t.Error("Events with limit 0 succeeded, want an error")
		}
	})
}

func TestAddEventFillsZeroTime(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, _ *database.DB, s *gormstore.Store) {
		ctx := testenv.Context(t)
		before := time.Now().Add(-time.Second)
		if err := s.AddEvent(ctx, identity.Event{Sub: testSub(1), Kind: identity.EventSignIn, Outcome: identity.OutcomeFailure}); err != nil {
			t.Fatalf("AddEvent: %v", err)
		}
		got, err := s.Events(ctx, testSub(1), 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("Events = %v, %v; want one event", got, err)
		}
		if got[0].At.Before(before) {
			t.Errorf("At = %v, want the current time", got[0].At)
		}
	})
}
