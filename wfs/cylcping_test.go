package wfs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/wfs"
)

// TestGraphQLPing: both models answer `cylc ping`'s query (PingQuery, in
// another layout too) through the graphql endpoint with the workflow's id,
// name and port, as a Cylc scheduler does.
func TestGraphQLPing(t *testing.T) {
	for _, model := range []string{"fast", "cylc"} {
		t.Run(model, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, model), OperateSleep: 5 * time.Millisecond, ServiceCPU: -1})
			for _, q := range []string{wfs.PingQuery, strings.Join(strings.Fields(wfs.PingQuery), " ")} {
				data, err := call(ts.client(5*time.Second), wfs.CmdGraphQL, map[string]any{
					"request_string": q, "variables": map[string]any{"wFlows": []string{"wf"}}})
				if err != nil {
					t.Fatal(err)
				}
				var got struct {
					Workflows []struct {
						ID, Name string
						Port     int
					}
				}
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatalf("reply %s: %v", data, err)
				}
				ep := ts.srv.Endpoint()
				if len(got.Workflows) != 1 || got.Workflows[0].Name != "wf" ||
					!strings.HasSuffix(ep, fmt.Sprintf(":%d", got.Workflows[0].Port)) {
					t.Fatalf("reply %s (endpoint %s): want workflow wf and its port", data, ep)
				}
			}
			// Any other query is not a ping: refused as before.
			if _, err := call(ts.client(5*time.Second), wfs.CmdGraphQL, map[string]any{"request_string": "query { workflows { id } }"}); err == nil {
				t.Fatal("another query was answered")
			}
		})
	}
}
