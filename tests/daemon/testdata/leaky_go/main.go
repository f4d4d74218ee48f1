// A Go service that leaks goroutines in a few distinct ways next to healthy
// ones, serving net/http/pprof on 127.0.0.1. Prints "listening on ADDR".
// Used by fiberleakd's tests: `go run main.go [-leaks N] [-listen ADDR]`.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"runtime"
	"sync"
	"time"
)

// receiveForever waits on a channel whose producer never sends (pattern 1).
func receiveForever(ch chan int) { <-ch }

// sendAfterTimeout is the worker its caller gave up on (pattern 2).
func sendAfterTimeout(ch chan int) { ch <- 42 }

// lockForever waits for a mutex that is never unlocked (pattern 4).
func lockForever(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock()
}

// ticker is healthy: it sleeps and wakes.
func ticker() {
	for {
		time.Sleep(100 * time.Millisecond)
	}
}

func main() {
	leaks := flag.Int("leaks", 3, "goroutines per leak pattern")
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on (a restart reuses the port)")
	flag.Parse()
	orphan := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	for i := 0; i < *leaks; i++ {
		go receiveForever(orphan)
		reply := make(chan int)
		go sendAfterTimeout(reply)
		go lockForever(&mu)
	}
	go ticker()
	// Go reports minutes only for goroutines a GC has seen blocked.
	go func() {
		for {
			time.Sleep(time.Second)
			runtime.GC()
		}
	}()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	panic(http.Serve(ln, nil))
}
