// The Go anchor of bench/profiler: N goroutines parked at a few sites (or
// each at its own depth), then the goroutine profile written in each format.
// Prints one line per format: "<format> <milliseconds> <bytes>", or with a
// third argument "dump" the debug=2 dump itself.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

func park0(ch chan int) { <-ch }
func park1(ch chan int) { <-ch }
func park2(ch chan int) { <-ch }
func park3(ch chan int) { <-ch }
func park4(ch chan int) { <-ch }

// deep parks at recursion depth d, so stacks differ between goroutines.
func deep(ch chan int, d int) {
	if d == 0 {
		<-ch
		return
	}
	deep(ch, d-1)
}

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	distinct := len(os.Args) > 2 && os.Args[2] == "distinct"
	ch := make(chan int)
	sites := []func(chan int){park0, park1, park2, park3, park4}
	for i := 0; i < n; i++ {
		if distinct {
			go deep(ch, i%300)
		} else {
			go sites[i%len(sites)](ch)
		}
	}
	for runtime.NumGoroutine() < n+1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if len(os.Args) > 3 && os.Args[3] == "dump" {
		// The raw debug=2 dump, for bench/daemon's parser benchmark.
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
		return
	}
	for _, debug := range []int{0, 1, 2} {
		best := time.Duration(1 << 62)
		size := 0
		for rep := 0; rep < 3; rep++ {
			var buf bytes.Buffer
			start := time.Now()
			pprof.Lookup("goroutine").WriteTo(&buf, debug)
			if d := time.Since(start); d < best {
				best = d
			}
			size = buf.Len()
		}
		fmt.Printf("debug=%d %.1f %d\n", debug, float64(best.Microseconds())/1000, size)
	}
}
