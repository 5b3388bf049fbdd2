package cosigntest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// trapDeadline bounds how long the trap waits for a proxy request line.
const trapDeadline = 5 * time.Second

// egressTrap is an HTTP proxy on 127.0.0.1 that forwards nothing: it reads
// one request (CONNECT host:443 for HTTPS, GET http://host/… for HTTP),
// records the host, answers 403 and closes the connection.
type egressTrap struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen []string
}

// newEgressTrap starts a trap on a free port of 127.0.0.1.
func newEgressTrap() (*egressTrap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("egress trap: %w", err)
	}
	w := &egressTrap{ln: ln}
	w.wg.Go(w.serve)
	return w, nil
}

// addr returns "127.0.0.1:PORT".
func (w *egressTrap) addr() string { return w.ln.Addr().String() }

// serve accepts connections until the listener is closed.
func (w *egressTrap) serve() {
	for {
		conn, err := w.ln.Accept()
		if err != nil {
			return
		}
		w.wg.Go(func() { w.handle(conn) })
	}
}

// handle records the host conn asks for and refuses it.
func (w *egressTrap) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(trapDeadline))
	host := "(unreadable request)"
	if req, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
		host = req.Host
		if host == "" {
			host = req.URL.Host
		}
	}
	w.mu.Lock()
	w.seen = append(w.seen, host)
	w.mu.Unlock()
	_, _ = conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
}

// hosts returns a copy of the hosts recorded so far.
func (w *egressTrap) hosts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// close stops the trap and waits for its goroutines.
func (w *egressTrap) close() {
	_ = w.ln.Close()
	w.wg.Wait()
}
