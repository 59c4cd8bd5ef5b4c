// Command kfake runs an in-memory Kafka broker (franz-go's kfake) until
// SIGINT or SIGTERM: for the load test, the Kafka path measured against a
// broker in its own process with no Kafka installed; and in the Kafka
// stand-in image (scripts/standins/kafka, docs/docker.md), where it listens
// on every interface and gives the other containers the name they reach it
// by.
//
//	go run ./scripts/kfake -port 19092
//	kfake -port 19092 -listen 0.0.0.0 -advertise kafka:19092
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "port to listen on, 0 for any")
	listen := flag.String("listen", "127.0.0.1", "address to listen on")
	advertise := flag.String("advertise", "", "host:port the broker tells clients to connect to (default: the address it listens on)")
	flag.Parse()
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if *port != 0 {
		opts = append(opts, kfake.Ports(*port))
	}
	if *listen != "127.0.0.1" || *advertise != "" {
		opts = append(opts, kfake.ListenFn(listenOn(*listen, *advertise)))
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

// listenOn listens on host (kfake asks for 127.0.0.1) at the port kfake
// asks for. kfake's metadata names its brokers by their listener's
// address, so when advertise is set the listener reports that instead.
func listenOn(host, advertise string) func(network, address string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, port))
		if err != nil || advertise == "" {
			return ln, err
		}
		if _, _, err := net.SplitHostPort(advertise); err != nil {
			ln.Close()
			return nil, fmt.Errorf("-advertise %q: %w", advertise, err)
		}
		return advertised{ln, advertisedAddr(advertise)}, nil
	}
}

// advertised is a listener whose address is the one clients are told.
type advertised struct {
	net.Listener
	addr advertisedAddr
}

func (a advertised) Addr() net.Addr { return a.addr }

// advertisedAddr is a host:port that other hosts reach the broker by.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }
