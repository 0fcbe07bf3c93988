package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pinhole/pinhole/identity"
	"github.com/pinhole/pinhole/identity/mailer"
)

// The queue's own logic is tested against a scripted mailer; that it delivers
// through real SMTP is what the app's tests show, which send every message
// through a Queue in front of Mailpit.

// scripted is a Mailer whose answers the test decides: each Send reports
// itself on started, then waits for release (if set) or its context, and
// returns the next error of errs (nil once they run out).
type scripted struct {
	mu      sync.Mutex
	errs    []error
	sent    []identity.Email
	calls   int
	started chan identity.Email
	release chan struct{}
}

func newScripted(errs ...error) *scripted {
	return &scripted{errs: errs, started: make(chan identity.Email, 100)}
}

func (m *scripted) Send(ctx context.Context, e identity.Email) error {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
	m.started <- e
	if m.release != nil {
		select {
		case <-m.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.errs) > 0 {
		err := m.errs[0]
		m.errs = m.errs[1:]
		if err != nil {
			return err
		}
	}
	m.sent = append(m.sent, e)
	return nil
}

func (m *scripted) counts() (calls, sent int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls, len(m.sent)
}

func notice(n int) identity.Email {
	return identity.Email{Kind: identity.EmailPasswordChanged, To: fmt.Sprintf("user%d@example.com", n), Link: "http://localhost:8080/forgot"}
}

func closeQueue(t *testing.T, q *mailer.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// Send returns while the mail server is still busy with the message: the
// request that sent it does not wait for delivery.
func TestQueueSendDoesNotWaitForDelivery(t *testing.T) {
	t.Parallel()
	m := newScripted()
	m.release = make(chan struct{})
	q := mailer.NewQueue(m, nil, mailer.QueueConfig{})
	if err := q.Send(context.Background(), notice(1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	<-m.started // the delivery is under way, and blocked ...
	if _, sent := m.counts(); sent != 0 {
		t.Fatalf("delivered %d before the server answered", sent)
	}
	close(m.release) // ... until the server answers
	closeQueue(t, q)
	if calls, sent := m.counts(); calls != 1 || sent != 1 {
		t.Errorf("after Close: %d calls, %d delivered; want 1 and 1", calls, sent)
	}
}

// A message that could never be sent is refused at once, to the caller.
func TestQueueRefusesInvalidMessages(t *testing.T) {
	t.Parallel()
	m := newScripted()
	q := mailer.NewQueue(m, nil, mailer.QueueConfig{})
	defer closeQueue(t, q)
	bad := notice(1)
	bad.Link = ""
	if err := q.Send(context.Background(), bad); !errors.Is(err, mailer.ErrInvalidEmail) {
		t.Errorf("Send without the link a notice needs = %v, want ErrInvalidEmail", err)
	}
	if err := q.Send(context.Background(), identity.Email{Kind: "newsletter", To: "a@example.com"}); !errors.Is(err, mailer.ErrUnknownKind) {
		t.Errorf("Send of an unknown kind = %v, want ErrUnknownKind", err)
	}
	if calls, _ := m.counts(); calls != 0 {
		t.Errorf("the mailer was called %d times for invalid messages", calls)
	}
}

func TestQueueRetries(t *testing.T) {
	t.Parallel()
	transient := errors.New("451 try again later")
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantSent  int
	}{
		{"succeeds on the third try", []error{transient, transient}, 3, 1},
		{"gives up after three tries", []error{transient, transient, transient}, 3, 0},
		{"does not retry a message the mailer calls invalid", []error{fmt.Errorf("compose: %w", mailer.ErrInvalidEmail)}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newScripted(tt.errs...)
			q := mailer.NewQueue(m, nil, mailer.QueueConfig{Attempts: 3, Backoff: time.Millisecond})
			if err := q.Send(context.Background(), notice(1)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			closeQueue(t, q)
			if calls, sent := m.counts(); calls != tt.wantCalls || sent != tt.wantSent {
				t.Errorf("%d calls, %d delivered; want %d and %d", calls, sent, tt.wantCalls, tt.wantSent)
			}
		})
	}
}

// A full queue refuses at once rather than make the request wait.
func TestQueueFull(t *testing.T) {
	t.Parallel()
	m := newScripted()
	m.release = make(chan struct{})
	q := mailer.NewQueue(m, nil, mailer.QueueConfig{Workers: 1, Capacity: 1})
	if err := q.Send(context.Background(), notice(1)); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	<-m.started // the worker holds the first message
	if err := q.Send(context.Background(), notice(2)); err != nil {
		t.Fatalf("second Send (fills the queue): %v", err)
	}
	if err := q.Send(context.Background(), notice(3)); !errors.Is(err, mailer.ErrQueueFull) {
		t.Errorf("third Send = %v, want ErrQueueFull", err)
	}
	close(m.release)
	closeQueue(t, q)
	if _, sent := m.counts(); sent != 2 {
		t.Errorf("delivered %d, want the 2 that were queued", sent)
	}
}

// Close delivers what is queued; after it, Send is refused.
func TestQueueCloseDrains(t *testing.T) {
	t.Parallel()
	m := newScripted()
	q := mailer.NewQueue(m, nil, mailer.QueueConfig{Workers: 2})
	for i := range 20 {
		if err := q.Send(context.Background(), notice(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	closeQueue(t, q)
	if _, sent := m.counts(); sent != 20 {
		t.Errorf("delivered %d of 20 queued before Close returned", sent)
	}
	if err := q.Send(context.Background(), notice(21)); !errors.Is(err, mailer.ErrQueueClosed) {
		t.Errorf("Send after Close = %v, want ErrQueueClosed", err)
	}
	closeQueue(t, q) // a second Close is harmless
}

// When Close's deadline passes, a delivery in flight is cut short and what
// still waits is dropped; Close says so instead of hanging.
func TestQueueCloseGivesUp(t *testing.T) {
	t.Parallel()
	m := newScripted()
	m.release = make(chan struct{}) // never released: the server hangs
	q := mailer.NewQueue(m, nil, mailer.QueueConfig{Workers: 1, Timeout: time.Hour})
	for i := range 3 {
		if err := q.Send(context.Background(), notice(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	<-m.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with an ended context = %v, want it to report context.Canceled", err)
	}
	if calls, sent := m.counts(); calls != 1 || sent != 0 {
		t.Errorf("%d calls, %d delivered; want the one in flight cut short and the rest dropped", calls, sent)
	}
}
