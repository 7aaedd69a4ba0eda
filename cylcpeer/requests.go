package cylcpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// pingQuery is the GraphQL query `cylc ping WORKFLOW` sends to the
// scheduler's graphql endpoint (cylc/flow/scripts/ping.py, FLOW_QUERY):
// the workflows with the given ids, their id, name, port and publish port.
const pingQuery = `query ($wFlows: [ID]) { workflows(ids: $wFlows) { id name port pubPort } }`

// messageMutation is the GraphQL mutation `cylc message` sends for a job's
// messages (cylc/flow/task_message.py, MUTATION): the workflow, the job
// (CYCLE/TASK/NN), the event time and [[severity, message], ...]. The
// scheduler queues the messages and its main loop processes them
// (cylc/flow/network/resolvers.py, put_messages).
const messageMutation = `mutation ($wFlows: [WorkflowID]!, $taskJob: String!, $eventTime: String, $messages: [[String]]) { message(workflows: $wFlows, taskJob: $taskJob, eventTime: $eventTime, messages: $messages) { result } }`

// Ping sends the query `cylc ping` sends and checks that the reply names
// the workflow.
func (cl *Client) Ping(ctx context.Context) error {
	data, err := cl.Call(ctx, "ping", "graphql", map[string]any{
		"request_string": pingQuery,
		"variables":      map[string]any{"wFlows": []string{cl.contact.Workflow}},
	})
	if err != nil {
		return err
	}
	var r struct {
		Workflows []struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"workflows"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return &Error{Kind: KindProtocol, Msg: fmt.Sprintf("ping reply: %v: %.200s", err, data)}
	}
	for _, w := range r.Workflows {
		if w.Name == cl.contact.Workflow {
			return nil
		}
	}
	return &Error{Kind: KindCylc, Msg: fmt.Sprintf("ping: the scheduler at %s does not run workflow %s (reply %.200s)", cl.contact.Endpoint(), cl.contact.Workflow, data)}
}

// Severity levels a job message may carry (Python logging's names, as
// `cylc message` takes them).
const (
	SeverityInfo    = "INFO"
	SeverityWarning = "WARNING"
)

// Message is one job message: a severity and its text.
type Message struct {
	Severity, Text string
}

// EventTime is a job message's event time as cylc message writes it in
// UTC: ISO 8601 to the second, "Z" (cylc/flow/wallclock.py).
func EventTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// SendMessages sends the mutation `cylc message` sends for job
// (CYCLE/TASK/NN) with its messages, stamped now, and checks that the
// scheduler queued them.
func (cl *Client) SendMessages(ctx context.Context, job string, msgs ...Message) error {
	pairs := make([][]string, len(msgs))
	for i, m := range msgs {
		pairs[i] = []string{m.Severity, m.Text}
	}
	data, err := cl.Call(ctx, "message", "graphql", map[string]any{
		"request_string": messageMutation,
		"variables": map[string]any{
			"wFlows":    []string{cl.contact.Workflow},
			"taskJob":   job,
			"eventTime": EventTime(time.Now()),
			"messages":  pairs,
		},
	})
	if err != nil {
		return err
	}
	return checkMutation(data, "message")
}

// checkMutation reads a mutation's reply: {NAME: {result: ...}}, where a
// result is a list of {id, response: [ok, text]} or, from older
// resolvers, [ok, text] itself (cylc/flow/network/__init__.py,
// ResponseDict). A false ok is a KindCylc error.
func checkMutation(data json.RawMessage, name string) error {
	var r map[string]struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s reply: %v: %.200s", name, err, data)}
	}
	m, ok := r[name]
	if !ok || len(m.Result) == 0 || string(m.Result) == "null" {
		return &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s reply has no result: %.200s", name, data)}
	}
	var outcomes []json.RawMessage
	var list []json.RawMessage
	if json.Unmarshal(m.Result, &list) == nil && len(list) > 0 && strings.HasPrefix(strings.TrimSpace(string(list[0])), "{") {
		for _, item := range list {
			var e struct {
				Response json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal(item, &e); err != nil {
				return &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s reply: %v: %.200s", name, err, data)}
			}
			outcomes = append(outcomes, e.Response)
		}
	} else {
		outcomes = append(outcomes, m.Result)
	}
	for _, o := range outcomes {
		var pair []any
		if err := json.Unmarshal(o, &pair); err != nil || len(pair) == 0 {
			return &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s reply: result is not [ok, text]: %.200s", name, data)}
		}
		if ok, _ := pair[0].(bool); !ok {
			return &Error{Kind: KindCylc, Msg: fmt.Sprintf("%s refused: %.300v", name, pair[1:])}
		}
	}
	return nil
}
