package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/config"
)

func TestRedisWaitReplicas(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(envOf(nil))
	require.NoError(t, err)
	assert.Zero(t, cfg.RedisWaitReplicas, "acknowledged by the master alone, by default")
	cfg, err = config.Parse(envOf(map[string]string{"REDIS_WAIT_REPLICAS": "1"}))
	require.NoError(t, err)
	assert.Equal(t, 1, cfg.RedisWaitReplicas)
	for _, bad := range []string{"-1", "one", "1.5"} {
		_, err := config.Parse(envOf(map[string]string{"REDIS_WAIT_REPLICAS": bad}))
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "REDIS_WAIT_REPLICAS", "%q", bad)
	}
}
