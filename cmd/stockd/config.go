package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"stockd/app"
	"stockd/domain"
)

// setting is one environment variable: its name, default and meaning. The
// list below is the single source of the defaults and of --help.
type setting struct {
	name, def, help string
}

var settings = []setting{
	{"HTTP_ADDR", ":8080", "listen address of the API"},
	{"UPDATER_ADDR", ":8081", "listen address of /healthz, /readyz and /metrics of update with kafka"},
	{"PRICE_STORE", "memory", "memory or redis: where price histories and user credit live"},
	{"ORDER_STORE", "memory", "memory or postgres: where orders live"},
	{"PRICE_SOURCE", "csv", "csv or kafka: what the price updater reads"},
	{"PRICE_CSV", "price_data.csv", "the CSV file of the csv source and of produce"},
	{"REDIS_ADDR", "localhost:6379", "Redis address (host:port)"},
	{"DATABASE_URL", "postgres://postgres@localhost:5432/stocks?sslmode=disable", "PostgreSQL URL"},
	{"KAFKA_BROKERS", "localhost:9092", "comma-separated Kafka seed brokers"},
	{"KAFKA_TOPIC", "main_topic", "the price topic"},
	{"KAFKA_GROUP", "price-updater", "consumer group of update"},
	{"APP_TIMEZONE", "UTC", "IANA zone in which \"created today\" is judged"},
	{"SEED_USERS", "user1:150000000,user2:6000000000", "name:credit pairs for seed-users and the in-memory store"},
	{"STOCKS", "stock1,stock2,stock3", "the stock names the service accepts"},
	{"AUTH", "off", "off or tokens"},
	{"RATE_LIMIT", "", "requests per second per user; 0 is off (50 with tokens, else 0)"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
}

// Config is the whole configuration, parsed once at start.
type Config struct {
	HTTPAddr     string
	UpdaterAddr  string
	PriceStore   string
	OrderStore   string
	PriceSource  string
	PriceCSV     string
	RedisAddr    string
	DatabaseURL  string
	KafkaBrokers []string
	KafkaTopic   string
	KafkaGroup   string
	Location     *time.Location
	SeedUsers    []app.UserCredit
	Stocks       domain.Stocks
	Auth         string
	RateLimit    int
	LogLevel     string
}

// parseConfig reads the environment through getenv. Every error names the
// variable at fault.
func parseConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, s := range settings {
			if s.name == name {
				return s.def
			}
		}
		panic("unknown setting " + name)
	}
	oneOf := func(name string, allowed ...string) (string, error) {
		v := strings.ToLower(get(name))
		for _, a := range allowed {
			if v == a {
				return v, nil
			}
		}
		return "", fmt.Errorf("%s: unknown value %q (want %s)", name, get(name), strings.Join(allowed, " or "))
	}
	var c Config
	var err error
	c.HTTPAddr = get("HTTP_ADDR")
	c.UpdaterAddr = get("UPDATER_ADDR")
	if c.PriceStore, err = oneOf("PRICE_STORE", "memory", "redis"); err != nil {
		return c, err
	}
	if c.OrderStore, err = oneOf("ORDER_STORE", "memory", "postgres"); err != nil {
		return c, err
	}
	if c.PriceSource, err = oneOf("PRICE_SOURCE", "csv", "kafka"); err != nil {
		return c, err
	}
	if c.Auth, err = oneOf("AUTH", "off", "tokens"); err != nil {
		return c, err
	}
	if c.LogLevel, err = oneOf("LOG_LEVEL", "debug", "info", "warn", "error"); err != nil {
		return c, err
	}
	c.PriceCSV = get("PRICE_CSV")
	c.RedisAddr = get("REDIS_ADDR")
	c.DatabaseURL = get("DATABASE_URL")
	c.KafkaTopic = get("KAFKA_TOPIC")
	c.KafkaGroup = get("KAFKA_GROUP")
	for _, b := range strings.Split(get("KAFKA_BROKERS"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.KafkaBrokers = append(c.KafkaBrokers, b)
		}
	}
	if len(c.KafkaBrokers) == 0 {
		return c, fmt.Errorf("KAFKA_BROKERS: no broker address")
	}
	if c.Location, err = time.LoadLocation(get("APP_TIMEZONE")); err != nil {
		return c, fmt.Errorf("APP_TIMEZONE: %v", err)
	}
	if c.Stocks, err = domain.NewStocks(strings.Split(get("STOCKS"), ",")); err != nil {
		return c, fmt.Errorf("STOCKS: %v", err)
	}
	if c.SeedUsers, err = parseSeedUsers(get("SEED_USERS")); err != nil {
		return c, fmt.Errorf("SEED_USERS: %v", err)
	}
	rate := get("RATE_LIMIT")
	if rate == "" {
		rate = "0"
		if c.Auth == "tokens" {
			rate = "50"
		}
	}
	if c.RateLimit, err = strconv.Atoi(rate); err != nil || c.RateLimit < 0 {
		return c, fmt.Errorf("RATE_LIMIT: %q is not a non-negative whole number", rate)
	}
	return c, nil
}

func parseSeedUsers(s string) ([]app.UserCredit, error) {
	var users []app.UserCredit
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, credit, ok := strings.Cut(pair, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not name:credit", pair)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(credit), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: credit must be a non-negative integer", pair)
		}
		if seen[name] {
			return nil, fmt.Errorf("user %q is listed twice", name)
		}
		seen[name] = true
		users = append(users, app.UserCredit{User: name, Credit: n})
	}
	return users, nil
}

func usage() string {
	var b strings.Builder
	b.WriteString(`Usage: stockd [command]

Commands:
  (none)         ingest the price source, then serve the API, in one process
  serve          serve the HTTP API only
  update         run the price updater: apply PRICE_SOURCE to PRICE_STORE
  produce        send every row of PRICE_CSV to KAFKA_TOPIC
  migrate        apply the database migrations to DATABASE_URL
  seed-users     write the users of SEED_USERS into the price store
  token USER     mint an API token for USER
  health [ADDR]  exit 0 when the server on ADDR (default HTTP_ADDR) answers /healthz

Environment (default):
`)
	for _, s := range settings {
		if s.def == "" {
			fmt.Fprintf(&b, "  %-14s %s\n", s.name, s.help)
			continue
		}
		fmt.Fprintf(&b, "  %-14s %s (%s)\n", s.name, s.help, s.def)
	}
	return b.String()
}
