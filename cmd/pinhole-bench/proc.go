package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The server runs as a child process so that what /proc says about it is
// the app's alone: not the driver's load generator, not PostgreSQL or MinIO.

// procStatus reads one "Name:   1234 kB" field of /proc/<pid>/status in
// bytes. VmRSS is the resident set now; VmHWM its high-water mark since the
// process started.
func procStatus(pid int, field string) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/status", pid), field, 1024)
}

// procIO reads one field of /proc/<pid>/io. rchar counts every byte the
// process read through read(2) and friends, sockets included: if a photo
// passed through the app, it would show up here.
func procIO(pid int, field string) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/io", pid), field, 1)
}

func procField(path, field string, unit int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		num, _, _ := strings.Cut(strings.TrimSpace(value), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", path, field, err)
		}
		return n * unit, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no %s field", path, field)
}

// rssSampler records the highest VmRSS of a process while it runs, so a
// phase can report its own peak (VmHWM covers the whole life of the process).
type rssSampler struct {
	peak atomic.Int64
	stop context.CancelFunc
	done chan struct{}
}

// sampleRSS starts sampling pid every interval until Stop.
func sampleRSS(pid int, interval time.Duration) *rssSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &rssSampler{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if rss, err := procStatus(pid, "VmRSS"); err == nil && rss > s.peak.Load() {
				s.peak.Store(rss)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak seen, in bytes.
func (s *rssSampler) Stop() int64 {
	s.stop()
	<-s.done
	return s.peak.Load()
}

// mib formats bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ), 100 on
// every mainstream Linux build; Go offers no sysconf to ask.
const userHZ = 100

// procCPU returns the CPU time (user + system) pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields are counted from after its closing parenthesis.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad CPU times", pid)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// procParent returns the parent pid of pid.
func procParent(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return strconv.Atoi(f[1]) // field 4
}

// treeCPU sums the CPU time of root and its direct children (PostgreSQL's
// postmaster and its backends). A child that has exited is no longer
// counted, which is why the driver keeps its connections open.
func treeCPU(root int) time.Duration {
	total, _ := procCPU(root)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		if ppid, err := procParent(pid); err == nil && ppid == root {
			if d, err := procCPU(pid); err == nil {
				total += d
			}
		}
	}
	return total
}
