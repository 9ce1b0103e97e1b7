// Command peer is the single test peer used by samples/repro/run.sh to put a
// throwaway network namespace into a known TCP socket state (CLOSE_WAIT leak,
// TIME_WAIT churn, accept-queue overflow, ...).
//
// It is built once and started through symlinks with meaningful names
// (leaky-server, pgserver, apiclient, ...) so that `ss -p` and `netstat -p`
// show real process names and pids.
//
// Every subcommand is bounded twice: by a count (-n, -max-conns) and by a hard
// wall-clock deadline (-duration) after which the process exits by itself.
// It only uses the standard library and is meant to talk to loopback
// addresses inside a network namespace created by run.sh.
//
// Subcommands (servers):
//
//	leak-server     accept; read until EOF and never close (CLOSE_WAIT, Recv-Q 0);
//	                every -unread-every'th connection is never read (CLOSE_WAIT, Recv-Q 1)
//	echo-server     accept; read until EOF, then close (passive closer; the client gets TIME_WAIT)
//	close-server    accept; read one request line, answer, close first (server-side TIME_WAIT)
//	backlog-server  listen(fd, -backlog) and never accept (accept queue overflows)
//	sink-server     accept and never read (Recv-Q grows; the sender's Send-Q grows)
//
// Subcommand (client):
//
//	client -mode short   connect, send -payload, close first, repeat -n times
//	client -mode http    connect, send a request, read until the server closes, close
//	client -mode hold    connect -n times (in parallel) and keep the connections open
//	client -mode fill    connect -n times and write until the send buffer is full, keep open
//	client -mode queue   connect -n times and keep the connections open; on SIGUSR1
//	                     (once) write -write-bytes to each (the peer is gone by then,
//	                     so the data stays queued, unacknowledged)
//
// -keep K makes the client first open K long-lived connections to the same
// destination and hold them (so the client can be named as the owner of its
// TIME_WAIT sockets). After its work a client stays alive, idle, until -duration.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// held keeps every connection we deliberately leave open reachable, so the Go
// runtime's finalizers never close them behind our back.
var (
	heldMu sync.Mutex
	held   []net.Conn
)

func hold(c net.Conn) {
	heldMu.Lock()
	held = append(held, c)
	heldMu.Unlock()
}

func main() {
	name := filepath.Base(os.Args[0])
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix(fmt.Sprintf("%s[%d] ", name, os.Getpid()))
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	addr := fs.String("addr", "", "listen address (servers) or destination (client)")
	duration := fs.Duration("duration", 45*time.Second, "hard deadline: exit after this long")
	maxConns := fs.Int("max-conns", 5000, "servers: stop accepting after this many connections")
	unreadEvery := fs.Int("unread-every", 0, "leak-server: never read every Nth connection (0 = read all)")
	backlog := fs.Int("backlog", 4, "backlog-server: listen() backlog")
	mode := fs.String("mode", "short", "client: short|http|hold|fill|queue")
	n := fs.Int("n", 100, "client: number of connections")
	keep := fs.Int("keep", 0, "client: long-lived connections to open first and hold")
	interval := fs.Duration("interval", 0, "client: pause between connections")
	payload := fs.String("payload", "", "client short mode: bytes to send before closing")
	dialTimeout := fs.Duration("dial-timeout", 2*time.Second, "client: connect timeout")
	fillTimeout := fs.Duration("fill-timeout", 2*time.Second, "client fill mode: stop writing after the buffer blocks this long")
	writeBytes := fs.Int("write-bytes", 256<<10, "client queue mode: bytes written to each connection on SIGUSR1")
	sndbuf := fs.Int("sndbuf", 0, "client: SO_SNDBUF of each connection (0 = kernel default)")
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if *addr == "" {
		log.Fatal("-addr is required")
	}
	if *duration <= 0 || *duration > 10*time.Minute {
		log.Fatal("-duration must be in (0, 10m]")
	}
	// The hard deadline: whatever happens, this process ends by itself.
	time.AfterFunc(*duration, func() {
		log.Printf("deadline %s reached, exiting", *duration)
		os.Exit(0)
	})
	log.Printf("start %s %v", cmd, args)

	switch cmd {
	case "leak-server", "echo-server", "close-server", "sink-server":
		serve(cmd, *addr, *maxConns, *unreadEvery)
	case "backlog-server":
		backlogServer(*addr, *backlog)
	case "client":
		client(clientOpts{
			addr: *addr, mode: *mode, n: *n, keep: *keep, interval: *interval,
			payload: *payload, dialTimeout: *dialTimeout, fillTimeout: *fillTimeout,
			writeBytes: *writeBytes, sndbuf: *sndbuf,
		})
	default:
		usage()
	}
	// Work done: stay idle (holding whatever we hold) until the deadline.
	select {}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: peer leak-server|echo-server|close-server|backlog-server|sink-server|client -addr ADDR [flags]")
	os.Exit(2)
}

// serve runs one of the accepting servers. It returns after max-conns
// connections (and the caller idles until the deadline, listener still open).
func serve(kind, addr string, maxConns, unreadEvery int) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("listen %s: %v", addr, err)
	}
	log.Printf("listening on %s", ln.Addr())
	var accepted, closed atomic.Int64
	go func() {
		for {
			time.Sleep(5 * time.Second)
			log.Printf("accepted %d, closed %d", accepted.Load(), closed.Load())
		}
	}()
	for i := 1; i <= maxConns; i++ {
		c, err := ln.Accept()
		if err != nil {
			log.Printf("accept: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		accepted.Add(1)
		switch kind {
		case "leak-server":
			hold(c)
			if unreadEvery > 0 && i%unreadEvery == 0 {
				continue // never read: CLOSE_WAIT with Recv-Q 1 (the FIN)
			}
			go func() {
				// The bug being reproduced: EOF is read, close() is never called.
				io.Copy(io.Discard, c)
			}()
		case "sink-server":
			hold(c) // never read
		case "echo-server":
			go func() {
				io.Copy(io.Discard, c) // until the client's FIN
				c.Close()
				closed.Add(1)
			}()
		case "close-server":
			go func() {
				c.SetDeadline(time.Now().Add(2 * time.Second))
				r := bufio.NewReader(c)
				r.ReadString('\n')
				io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
				c.Close() // the server closes first: TIME_WAIT on the server side
				closed.Add(1)
			}()
		}
	}
	// Stop accepting but keep the listener open (new connections then wait
	// in its accept queue until the deadline).
	log.Printf("max-conns %d reached; no longer accepting", maxConns)
	holdListener = ln
}

// holdListener keeps the listener reachable after the accept loop stopped.
var holdListener net.Listener

// backlogServer listens with a tiny backlog and never calls accept().
func backlogServer(addr string, backlog int) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0)
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	sa := &syscall.SockaddrInet6{Port: ta.Port}
	if ip := ta.IP.To16(); ip != nil {
		copy(sa.Addr[:], ip)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		log.Fatalf("bind %s: %v", addr, err)
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		log.Fatalf("listen: %v", err)
	}
	log.Printf("listening on %s with backlog %d; never accepting (fd %d)", addr, backlog, fd)
}

type clientOpts struct {
	addr, mode, payload      string
	n, keep, writeBytes      int
	sndbuf                   int
	interval                 time.Duration
	dialTimeout, fillTimeout time.Duration
}

func client(o clientOpts) {
	d := net.Dialer{Timeout: o.dialTimeout}
	if o.sndbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, o.sndbuf)
			})
			return serr
		}
	}
	errCount := map[string]int{}
	var mu sync.Mutex
	countErr := func(err error) {
		key := "other"
		switch {
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			key = "EADDRNOTAVAIL"
		case errors.Is(err, syscall.ECONNREFUSED):
			key = "ECONNREFUSED"
		case errors.Is(err, syscall.ECONNRESET):
			key = "ECONNRESET"
		case errors.Is(err, os.ErrDeadlineExceeded):
			key = "timeout"
		default:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				key = "timeout"
			}
		}
		mu.Lock()
		errCount[key]++
		first := errCount[key] == 1
		mu.Unlock()
		if first {
			log.Printf("first %s error: %v", key, err)
		}
	}
	report := func(what string, ok int) {
		mu.Lock()
		defer mu.Unlock()
		log.Printf("%s: %d ok, errors %v", what, ok, errCount)
		for k, v := range errCount {
			log.Printf("error-count %s %d", k, v)
		}
	}

	for i := 0; i < o.keep; i++ {
		c, err := d.Dial("tcp", o.addr)
		if err != nil {
			countErr(err)
			continue
		}
		hold(c)
	}
	if o.keep > 0 {
		log.Printf("holding %d long-lived connections to %s", len(held), o.addr)
	}

	ok := 0
	switch o.mode {
	case "short", "http":
		for i := 0; i < o.n; i++ {
			if i > 0 && o.interval > 0 {
				time.Sleep(o.interval)
			}
			c, err := d.Dial("tcp", o.addr)
			if err != nil {
				countErr(err)
				continue
			}
			if o.mode == "http" {
				c.SetDeadline(time.Now().Add(2 * time.Second))
				io.WriteString(c, "GET /health HTTP/1.0\r\n\r\n")
				if _, err := io.Copy(io.Discard, c); err != nil {
					countErr(err)
				}
			} else if o.payload != "" {
				io.WriteString(c, o.payload)
			}
			c.Close() // short mode: the client closes first
			ok++
		}
		report(o.mode+" connections", ok)
	case "hold", "fill", "queue":
		var wg sync.WaitGroup
		var okN atomic.Int64
		var bytes atomic.Int64
		for i := 0; i < o.n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := d.Dial("tcp", o.addr)
				if err != nil {
					countErr(err)
					return
				}
				hold(c)
				okN.Add(1)
				if o.mode == "fill" {
					buf := make([]byte, 64<<10)
					for j := 0; j < 4096; j++ { // bounded: at most 256 MiB per connection
						c.SetWriteDeadline(time.Now().Add(o.fillTimeout))
						k, err := c.Write(buf)
						bytes.Add(int64(k))
						if err != nil {
							break // send buffer full: the peer does not read
						}
					}
				}
			}()
			if o.interval > 0 {
				time.Sleep(o.interval)
			}
		}
		wg.Wait()
		if o.mode == "queue" {
			// Wait (bounded by -duration) for the signal that the peer is gone.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGUSR1)
			log.Printf("holding %d connections; waiting for SIGUSR1 to write", okN.Load())
			<-sig
			signal.Stop(sig)
			buf := make([]byte, o.writeBytes)
			var total int64
			heldMu.Lock()
			conns := append([]net.Conn(nil), held...)
			heldMu.Unlock()
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
				k, _ := c.Write(buf) // bounded by the deadline: nothing is acknowledged
				total += int64(k)
			}
			log.Printf("wrote %d bytes in total to %d connections after SIGUSR1 (queued, unacknowledged)", total, len(conns))
		}
		if o.mode == "fill" {
			log.Printf("wrote %d bytes in total before the send buffers filled", bytes.Load())
		}
		report(o.mode+" connections", int(okN.Load()))
	default:
		log.Fatalf("unknown -mode %q", o.mode)
	}
}
