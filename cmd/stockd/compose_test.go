package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/config"
)

// TestComposeFile loads compose.yaml with the compose-spec loader and
// checks it against the contract: the services and their order, ports,
// commands, and that every variable given to stockd is one it knows and
// parses. make test-compose runs it (docs/docker.md).
func TestComposeFile(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	// VERSION as `make up` sets it; nothing else from the environment, so
	// the defaults of compose.yaml's variables are what is checked.
	project := loadCompose(t, "VERSION=v-test")

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

	// One service builds each image: compose builds it once a service that
	// names a build, all at once (issue 27: five builds of stockd on 2
	// cores), and pulls no image another service builds.
	builders := map[string][]string{}
	for name, svc := range project.Services {
		if svc.Build != nil {
			builders[svc.Image] = append(builders[svc.Image], name)
		}
	}
	assert.Equal(t, map[string][]string{"stockd:latest": {"migrate"}}, builders)
	require.NotNil(t, project.Services["migrate"].Build.Args["VERSION"])
	assert.Equal(t, "v-test", *project.Services["migrate"].Build.Args["VERSION"], "the build takes the version make up passes")

	// Each service waits for exactly what it uses, no less (a one-shot
	// fails on a store that is not there yet) and no more (issue 27:
	// seed-users, which writes Redis alone, checked the database schema
	// and lost its race with migrate; docs/docker.md has the table).
	healthy, done := types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully
	for name, want := range map[string]map[string]string{
		"redis": {}, "postgres": {}, "kafka": {},
		"kafka-init": {"kafka": healthy},
		"migrate":    {"postgres": healthy},
		"seed-users": {"redis": healthy},
		"produce":    {"kafka-init": done},
		"updater":    {"redis": healthy, "kafka-init": done},
		"api":        {"redis": healthy, "postgres": healthy, "migrate": done, "seed-users": done},
		"nginx":      {"api": healthy},
	} {
		got := map[string]string{}
		for dep, d := range project.Services[name].DependsOn {
			got[dep] = d.Condition
		}
		assert.Equal(t, want, got, "%s waits for", name)
	}
	for _, name := range []string{"redis", "postgres", "kafka", "api"} {
		require.NotNil(t, project.Services[name].HealthCheck, "%s has a health check", name)
	}
	// Over TCP: while the postgres image's entrypoint creates the database,
	// its server listens on the Unix socket only, where pg_isready (without
	// -h) already says ready and migrate, over TCP, would fail.
	assert.Equal(t, types.HealthCheckTest{"CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres", "-d", "stocks"},
		project.Services["postgres"].HealthCheck.Test)
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

// loadCompose loads compose.yaml with the compose-spec loader, with env
// (NAME=value) as the only environment.
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithName("stockd"), cli.WithEnv(env))
	require.NoError(t, err)
	project, err := opts.LoadProject(t.Context())
	require.NoError(t, err)
	return project
}

// TestComposeMovesTogether: the variables that move compose.yaml's host
// ports and subnet (make test-compose sets them all, docs/docker.md) move
// what depends on them too: Kafka's host listener names the published
// port, and the API trusts the subnet nginx is on.
func TestComposeMovesTogether(t *testing.T) {
	t.Parallel()
	for _, env := range [][]string{nil, {"STOCKD_HTTP_PORT=28080", "STOCKD_REDIS_PORT=26379", "STOCKD_KAFKA_PORT=29092",
		"STOCKD_UPDATER_PORTS=28081-28082", "STOCKD_SUBNET=172.28.7.0/24"}} {
		project := loadCompose(t, env...)
		want := map[string]string{"nginx": "8080", "redis": "6379", "kafka": "9092", "updater": "8081-8082"}
		subnet := "172.29.0.0/16"
		if env != nil {
			want = map[string]string{"nginx": "28080", "redis": "26379", "kafka": "29092", "updater": "28081-28082"}
			subnet = "172.28.7.0/24"
		}
		for name, port := range want {
			require.Len(t, project.Services[name].Ports, 1, name)
			assert.Equal(t, port, project.Services[name].Ports[0].Published, "%s with %v", name, env)
			assert.Equal(t, "127.0.0.1", project.Services[name].Ports[0].HostIP, name)
		}
		assert.Contains(t, *project.Services["kafka"].Environment["KAFKA_ADVERTISED_LISTENERS"], "HOST://localhost:"+want["kafka"]+",",
			"the host's listener names the port the host reaches")
		require.Len(t, project.Networks["default"].Ipam.Config, 1)
		assert.Equal(t, subnet, project.Networks["default"].Ipam.Config[0].Subnet)
		assert.Equal(t, subnet, *project.Services["api"].Environment["TRUSTED_PROXIES"], "the API trusts nginx's network")
	}
}

// TestComposeImagesPinned: every image compose pulls names an exact
// release (major.minor.patch; PostgreSQL's releases are major.minor), so that `make up` next month runs what was
// tested, not whatever a floating tag such as redis:7-alpine points to by
// then. The stockd image is built from this tree.
func TestComposeImagesPinned(t *testing.T) {
	t.Parallel()
	project := loadCompose(t)
	exact := regexp.MustCompile(`^([a-z0-9./-]+):(\d+\.\d+(\.\d+)?)(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$`)
	built := map[string]bool{}
	for _, svc := range project.Services {
		if svc.Build != nil {
			built[svc.Image] = true
		}
	}
	for name, svc := range project.Services {
		if built[svc.Image] {
			continue
		}
		m := exact.FindStringSubmatch(svc.Image)
		if !assert.NotNil(t, m, "%s: the image %s names no release", name, svc.Image) {
			continue
		}
		release := `\d+\.\d+\.\d+`
		if m[1] == "postgres" {
			release = `\d+\.\d+`
		}
		assert.Regexp(t, "^"+release+"$", m[2], "%s: the tag of %s floats", name, svc.Image)
	}
}

// TestDockerContext reads .dockerignore the way docker build does: the
// caches and dependencies that tests leave in the tree (e2e/node_modules
// alone is tens of MB), the binaries, .git and generated price files stay
// out of the build context; what the Dockerfile copies stays in.
func TestDockerContext(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../.dockerignore")
	require.NoError(t, err)
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	for path, wantOut := range map[string]bool{
		".git/HEAD": true, "bin/stockd": true, ".cache/npm/_cacache/index": true,
		"e2e/node_modules/playwright-core/package.json": true, "e2e/artifacts/shot.png": true,
		"big.csv": true, "testdata/fuzz-cache/x": true,
		"price_data.csv": false, "go.mod": false, "cmd/stockd/main.go": false,
		"migrations/00001_orders.sql": false, "e2e/run.sh": false, "Makefile": false,
		"adapters/csv/testdata/wide.csv": false,
	} {
		out, err := pm.MatchesOrParentMatches(path)
		require.NoError(t, err)
		assert.Equal(t, wantOut, out, "%s left out of the build context", path)
	}
}
