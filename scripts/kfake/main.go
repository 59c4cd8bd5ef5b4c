// Command kfake runs an in-memory Kafka broker (franz-go's kfake) on a
// loopback port until SIGINT or SIGTERM, for the load test: the Kafka path
// measured against a broker in its own process, with no Kafka installed.
//
//	go run ./scripts/kfake -port 19092
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "port to listen on (127.0.0.1), 0 for any")
	flag.Parse()
	opts := []kfake.Opt{kfake.NumBrokers(1)} // kfake listens on 127.0.0.1
	if *port != 0 {
		opts = append(opts, kfake.Ports(*port))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kfake: %v\n", err)
		os.Exit(1)
	}
	defer cluster.Close()
	fmt.Println(cluster.ListenAddrs()[0])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
