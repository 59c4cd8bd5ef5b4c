package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/config"
)

// TestComposeFile loads compose.yaml with the compose-spec loader (there is
// no Docker engine here to run it) and checks it against the contract: the
// services and their order, ports, commands, and that every variable given
// to stockd is one it knows and parses.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithName("stockd"))
	require.NoError(t, err)
	project, err := opts.LoadProject(t.Context())
	require.NoError(t, err)

	want := []string{"redis", "postgres", "kafka", "kafka-init", "migrate", "seed-users", "produce", "updater", "api", "nginx"}
	got := project.ServiceNames()
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got)

	published := func(name string) []string {
		var out []string
		for _, p := range project.Services[name].Ports {
			out = append(out, p.HostIP+":"+p.Published+":"+strconv.FormatUint(uint64(p.Target), 10))
		}
		return out
	}
	// Published on the loopback only: exposing a port is a deliberate act
	// (see the README), not what `make up` does on a shared host.
	assert.Equal(t, []string{"127.0.0.1:6379:6379"}, published("redis"))
	assert.Equal(t, []string{"127.0.0.1:9092:9092"}, published("kafka"))
	assert.Equal(t, []string{"127.0.0.1:8080:8080"}, published("nginx"), "the API, through the balancer")
	assert.Empty(t, published("api"))
	for _, name := range []string{"api", "updater"} {
		require.NotNil(t, project.Services[name].Deploy, name)
		assert.Equal(t, 2, *project.Services[name].Deploy.Replicas, "%s: two processes", name)
	}
	assert.Contains(t, project.Services["nginx"].Volumes[0].Source, "deploy/nginx.conf")
	for name, svc := range project.Services {
		for _, p := range svc.Ports {
			assert.Equal(t, "127.0.0.1", p.HostIP, "%s publishes %s on every interface", name, p.Published)
		}
	}

	kafka := project.Services["kafka"].Environment
	assert.Contains(t, *kafka["KAFKA_ADVERTISED_LISTENERS"], "localhost:9092", "reachable from the host")
	assert.Contains(t, *kafka["KAFKA_ADVERTISED_LISTENERS"], "kafka:19092", "and from the containers")
	assert.Contains(t, *kafka["KAFKA_PROCESS_ROLES"], "controller", "KRaft, no ZooKeeper")
	assert.True(t, strings.HasPrefix(project.Services["kafka"].Image, "apache/kafka:"))
	assert.Contains(t, strings.Join(project.Services["kafka-init"].Command, " "), "--topic main_topic ")

	commands := map[string]string{"migrate": "migrate", "seed-users": "seed-users", "produce": "produce", "updater": "update", "api": "serve"}
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Name] = true
	}
	for name, cmd := range commands {
		svc := project.Services[name]
		assert.Equal(t, types.ShellCommand{cmd}, svc.Command, name)
		assert.Equal(t, "stockd:latest", svc.Image, name)
		require.NotNil(t, svc.Build, name)
		env := map[string]string{}
		for k, v := range svc.Environment {
			require.True(t, known[k], "%s: %s is not a stockd variable", name, k)
			require.NotNil(t, v, "%s: %s has no value", name, k)
			env[k] = *v
		}
		cfg, err := config.Parse(func(k string) string { return env[k] })
		require.NoError(t, err, name)
		assert.Equal(t, config.PriceStoreRedis, cfg.PriceStore, name)
		assert.Equal(t, config.OrderStorePostgres, cfg.OrderStore, name)
		assert.Equal(t, []string{"kafka:19092"}, cfg.KafkaBrokers, name)
		assert.Equal(t, "main_topic", cfg.KafkaTopic, name)
	}
	assert.Equal(t, "kafka", *project.Services["updater"].Environment["PRICE_SOURCE"])

	cond := func(svc, dep string) string { return project.Services[svc].DependsOn[dep].Condition }
	assert.Equal(t, types.ServiceConditionCompletedSuccessfully, cond("api", "migrate"))
	assert.Equal(t, types.ServiceConditionCompletedSuccessfully, cond("api", "seed-users"))
	assert.Equal(t, types.ServiceConditionHealthy, cond("api", "redis"))
	assert.Equal(t, types.ServiceConditionHealthy, cond("api", "postgres"))
	assert.Equal(t, types.ServiceConditionHealthy, cond("migrate", "postgres"))
	assert.Equal(t, types.ServiceConditionHealthy, cond("seed-users", "redis"))
	assert.Equal(t, types.ServiceConditionHealthy, cond("kafka-init", "kafka"))
	assert.Equal(t, types.ServiceConditionCompletedSuccessfully, cond("produce", "kafka-init"))
	assert.Equal(t, types.ServiceConditionCompletedSuccessfully, cond("updater", "kafka-init"))
	for _, name := range []string{"redis", "postgres", "kafka", "api"} {
		require.NotNil(t, project.Services[name].HealthCheck, "%s has a health check", name)
	}
	assert.Equal(t, types.HealthCheckTest{"CMD", "/app/stockd", "health"}, project.Services["api"].HealthCheck.Test)
	require.NotNil(t, project.Services["updater"].HealthCheck)
	assert.Equal(t, types.HealthCheckTest{"CMD", "/app/stockd", "health", ":8081"}, project.Services["updater"].HealthCheck.Test)
	assert.Equal(t, []string{"127.0.0.1:8081-8082:8081"}, published("updater"), "the updaters' metrics, a host port each")

	// The image is built by the target CI runs.
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	assert.Contains(t, string(dockerfile), "RUN make build")
	assert.Contains(t, string(dockerfile), "USER nonroot")
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	assert.Contains(t, string(makefile), "CGO_ENABLED=0")
}
