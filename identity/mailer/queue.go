package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pinhole/pinhole/identity"
)

// Queue delivers messages in the background: Send checks the message and
// hands it to a worker, and the request that caused it never waits for the
// mail server.
//
// That is a security property before it is a speed one. Forgot-password and
// resend send mail only when the address is registered, and always answer
// the same. If the answer waited for the SMTP conversation (tens to hundreds
// of milliseconds with a real provider), a stopwatch would tell registered
// addresses from unknown ones, however identical the responses. With the
// queue, what differs is a little local work, not a network round trip to
// another system.
//
// The price is durability: messages waiting in memory are lost if the
// process dies. Every message Pinhole sends can be asked for again (resend,
// forgot), so that is an inconvenience, not lost state. Close drains the
// queue on a graceful shutdown.
type Queue struct {
	next identity.Mailer
	log  *slog.Logger
	cfg  QueueConfig
	jobs chan identity.Email

	// stop ends retries and cuts deliveries short once Close gives up
	// waiting; workers exit when jobs is closed and drained.
	stop    context.Context
	stopNow context.CancelFunc
	workers sync.WaitGroup

	mu     sync.Mutex // guards closed, and sends into jobs against close(jobs)
	closed bool
	// closeDone is closed when the first Close has finished, with its
	// result in closeErr.
	closeDone chan struct{}
	closeErr  error
}

// QueueConfig tunes a Queue. Zero fields take the defaults.
type QueueConfig struct {
	// Workers deliver concurrently (default 2).
	Workers int
	// Capacity is how many messages may wait (default 1,000). Beyond it
	// Send refuses at once rather than make the request wait.
	Capacity int
	// Attempts is how many times a delivery is tried (default 3), with
	// Backoff (default 2 s) doubling between tries. Messages the mailer
	// refuses as invalid are not retried.
	Attempts int
	Backoff  time.Duration
	// Timeout bounds one delivery attempt (default 30 s).
	Timeout time.Duration
}

// Errors of Send.
var (
	// ErrQueueFull means Capacity messages are already waiting; the mail
	// server is down or far slower than the flows that send mail.
	ErrQueueFull = errors.New("mailer: queue is full")
	// ErrQueueClosed means Close has been called.
	ErrQueueClosed = errors.New("mailer: queue is closed")
)

// NewQueue starts the workers of a Queue in front of next. log receives
// delivery failures (never the message body, which carries codes).
func NewQueue(next identity.Mailer, log *slog.Logger, cfg QueueConfig) *Queue {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1000
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{next: next, log: log, cfg: cfg, jobs: make(chan identity.Email, cfg.Capacity), closeDone: make(chan struct{})}
	q.stop, q.stopNow = context.WithCancel(context.Background())
	for range cfg.Workers {
		q.workers.Go(q.work)
	}
	return q
}

// Send checks e (Validate) and queues it. It returns at once: an error
// wrapping ErrUnknownKind or ErrInvalidEmail for a message that could never
// be sent, ErrQueueFull or ErrQueueClosed, or nil once e is queued. The
// rendering is left to the worker, off the request's path. ctx is not used
// for the delivery, which outlives the request.
func (q *Queue) Send(_ context.Context, e identity.Email) error {
	if err := Validate(e); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	select {
	case q.jobs <- e:
		return nil
	default:
		return fmt.Errorf("%w (%d waiting); %s not queued", ErrQueueFull, cap(q.jobs), e.Kind)
	}
}

// Close stops accepting messages and waits until the queued ones are
// delivered (or have failed), or until ctx ends: then deliveries in flight
// are cut short, the messages still waiting are dropped (each one logged),
// and the error says so. Closing twice returns the first result.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		<-q.closeDone
		return q.closeErr
	}
	q.closed = true
	close(q.jobs)
	q.mu.Unlock()

	drained := make(chan struct{})
	go func() {
		q.workers.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-ctx.Done():
		q.stopNow()
		<-drained
		q.closeErr = fmt.Errorf("mailer: queue closed before every message was delivered: %w", context.Cause(ctx))
	}
	q.stopNow()
	close(q.closeDone)
	return q.closeErr
}

// work delivers queued messages until the queue is closed and empty. After
// stop, what is left is drained without being sent, so Close returns.
func (q *Queue) work() {
	for e := range q.jobs {
		if q.stop.Err() != nil {
			q.log.Error("email dropped: the queue was closed before it could be sent", "kind", e.Kind)
			continue
		}
		q.deliver(e)
	}
}

// deliver tries e up to Attempts times.
func (q *Queue) deliver(e identity.Email) {
	backoff := q.cfg.Backoff
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(q.stop, q.cfg.Timeout)
		err := q.next.Send(ctx, e)
		cancel()
		if err == nil {
			return
		}
		if attempt == q.cfg.Attempts || errors.Is(err, ErrInvalidEmail) || errors.Is(err, ErrUnknownKind) || q.stop.Err() != nil {
			// The recipient stays out of the log (personal data); the
			// kind and the error say what went wrong.
			q.log.Error("email not sent", "kind", e.Kind, "attempts", attempt, "err", err)
			return
		}
		q.log.Warn("email not sent; will retry", "kind", e.Kind, "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-q.stop.Done():
			q.log.Error("email not sent: the queue was closed while it waited to retry", "kind", e.Kind, "attempts", attempt, "err", err)
			return
		}
		backoff *= 2
	}
}
