// Command kafkacli stands in, in the Kafka stand-in image
// (scripts/standins/kafka, docs/docker.md), for the two scripts of the
// Kafka distribution that compose.yaml runs in apache/kafka. It is
// installed under both names and does what it is called as:
//
//	/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server HOST:PORT
//	/opt/kafka/bin/kafka-topics.sh --bootstrap-server HOST:PORT --create [--if-not-exists] --topic T [--partitions N] [--replication-factor R]
//	/opt/kafka/bin/kafka-topics.sh --bootstrap-server HOST:PORT --list
//
// Only these options are known; any other is an error, so that a change to
// compose.yaml the stand-in cannot follow fails instead of passing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, filepath.Base(os.Args[0]), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		os.Exit(1)
	}
}

func run(ctx context.Context, name string, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	bootstrap := flags.String("bootstrap-server", "", "HOST:PORT of a broker")
	switch name {
	case "kafka-broker-api-versions.sh":
		if err := flags.Parse(args); err != nil {
			return err
		}
		adm, err := admin(*bootstrap)
		if err != nil {
			return err
		}
		defer adm.Close()
		return apiVersions(ctx, adm, stdout)
	case "kafka-topics.sh":
		create := flags.Bool("create", false, "create the topic")
		list := flags.Bool("list", false, "list the topics")
		ifNotExists := flags.Bool("if-not-exists", false, "with --create: an existing topic is no error")
		topic := flags.String("topic", "", "the topic")
		partitions := flags.Int("partitions", 1, "with --create: partitions")
		replication := flags.Int("replication-factor", 1, "with --create: replicas")
		if err := flags.Parse(args); err != nil {
			return err
		}
		adm, err := admin(*bootstrap)
		if err != nil {
			return err
		}
		defer adm.Close()
		switch {
		case *create && *topic != "":
			return createTopic(ctx, adm, *topic, int32(*partitions), int16(*replication), *ifNotExists, stdout)
		case *list:
			return listTopics(ctx, adm, stdout)
		}
		return errors.New("the stand-in knows --create --topic T and --list only")
	}
	return fmt.Errorf("unknown command (run as kafka-broker-api-versions.sh or kafka-topics.sh)")
}

func admin(bootstrap string) (*kadm.Client, error) {
	if bootstrap == "" {
		return nil, errors.New("--bootstrap-server is required")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// apiVersions succeeds when every broker answers ApiVersions, as the
// health check of compose.yaml expects of the real script.
func apiVersions(ctx context.Context, adm *kadm.Client, stdout io.Writer) error {
	versions, err := adm.ApiVersions(ctx)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return errors.New("no broker answered")
	}
	for _, v := range versions.Sorted() {
		if v.Err != nil {
			return fmt.Errorf("broker %d: %w", v.NodeID, v.Err)
		}
		fmt.Fprintf(stdout, "broker %d: %d APIs\n", v.NodeID, len(v.Raw().ApiKeys))
	}
	return nil
}

func createTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, replication int16, ifNotExists bool, stdout io.Writer) error {
	res, err := adm.CreateTopic(ctx, partitions, replication, nil, topic)
	if err == nil {
		err = res.Err
	}
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists) && ifNotExists:
		return nil
	case err != nil:
		return fmt.Errorf("create %s: %w", topic, err)
	}
	_, err = fmt.Fprintf(stdout, "Created topic %s.\n", topic)
	return err
}

func listTopics(ctx context.Context, adm *kadm.Client, stdout io.Writer) error {
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return err
	}
	names := topics.Names()
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	return nil
}
