package wfs

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MessageMutation is the GraphQL request a job message is sent as: the
// MUTATION constant of cylc-flow's cylc/flow/task_message.py, byte for byte.
// Its fields are those of the Message mutation in cylc/flow/network/schema.py
// (resolver mutator(command='put_messages')), which reaches
// Resolvers.put_messages in cylc/flow/network/resolvers.py.
const MessageMutation = `
mutation (
  $wFlows: [WorkflowID]!,
  $taskJob: String!,
  $eventTime: String,
  $messages: [[String]]
) {
  message (
    workflows: $wFlows,
    taskJob: $taskJob,
    eventTime: $eventTime,
    messages: $messages
  ) {
    result
  }
}
`

// messageMutationArgs are the args of a "graphql" message request, in the
// order cylc-flow's task_message.send_messages builds them.
type messageMutationArgs struct {
	RequestString string              `json:"request_string"`
	Variables     messageMutationVars `json:"variables"`
}

// messageMutationVars are MessageMutation's variables, in task_message.py's
// order.
type messageMutationVars struct {
	WFlows    []string    `json:"wFlows"`
	TaskJob   string      `json:"taskJob"`
	EventTime string      `json:"eventTime"`
	Messages  [][2]string `json:"messages"`
}

// EncodeMessageMutation renders a job message as cylc-flow 8's `cylc
// message` sends it (cylc/flow/task_message.py, send_messages): command
// "graphql", args {"request_string": MessageMutation, "variables":
// {"wFlows": [a.Workflow], "taskJob": a.TaskJob, "eventTime": a.EventTime,
// "messages": a.Messages}}, then meta. Keys come in task_message.py's
// order; separators are compact, as EncodeRequest writes every request
// (Python's json.dumps would put a space after ':' and ','). a.Workflow
// and a.TaskJob are required; nil Messages are sent as [].
func EncodeMessageMutation(a MessageArgs, meta Meta) ([]byte, error) {
	if a.Workflow == "" {
		return nil, fmt.Errorf("encode message mutation: no workflow (MessageArgs.Workflow)")
	}
	if a.TaskJob == "" {
		return nil, fmt.Errorf("encode message mutation: no task job")
	}
	msgs := a.Messages
	if msgs == nil {
		msgs = [][2]string{}
	}
	return EncodeRequest(CmdGraphQL, messageMutationArgs{
		RequestString: MessageMutation,
		Variables: messageMutationVars{
			WFlows: []string{a.Workflow}, TaskJob: a.TaskJob, EventTime: a.EventTime, Messages: msgs,
		},
	}, meta)
}

// normalGraphQL is s with GraphQL's insignificant characters (ASCII white
// space, line terminators, commas and # comments) dropped, keeping one space only
// between two name characters, so that two layouts of one request compare
// equal.
func normalGraphQL(s string) string {
	isName := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	b := make([]byte, 0, len(s))
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\r', ',':
			sep = true
			continue
		case '#':
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
			sep = true
			continue
		}
		if sep && len(b) > 0 && isName(b[len(b)-1]) && isName(c) {
			b = append(b, ' ')
		}
		sep = false
		b = append(b, c)
	}
	return string(b)
}

var normalMessageMutation = normalGraphQL(MessageMutation)

// IsMessageMutation reports whether a GraphQL request string is
// MessageMutation, laid out in any way.
func IsMessageMutation(requestString string) bool {
	return normalGraphQL(requestString) == normalMessageMutation
}

// PingQuery is the GraphQL query `cylc ping WORKFLOW` sends: FLOW_QUERY
// of cylc-flow's cylc/flow/scripts/ping.py, byte for byte. Both server
// models answer it through the graphql endpoint with the workflow's id,
// name and port, as a Cylc scheduler does, so that a Cylc client (package
// cylcpeer, authbench calibrate -cylc) can ping them.
const PingQuery = `
query ($wFlows: [ID]) {
  workflows(ids: $wFlows) {
    id
    name
    port
    pubPort
  }
}
`

var normalPingQuery = normalGraphQL(PingQuery)

// isPingQuery reports whether a "graphql" request's args carry PingQuery,
// laid out in any way.
func isPingQuery(args json.RawMessage) bool {
	var a struct {
		RequestString string `json:"request_string"`
	}
	return json.Unmarshal(args, &a) == nil && normalGraphQL(a.RequestString) == normalPingQuery
}

// graphQLPing answers PingQuery as a Cylc scheduler's graphql endpoint
// does for its own workflow: {"workflows": [{"id": "~owner/workflow",
// "name": workflow, "port": PORT, "pubPort": 0}]} (authbench publishes
// nothing). Entries of $wFlows are not matched: the query is only ever
// sent for the workflow whose contact file the client read.
func (s *Server) graphQLPing() any {
	port := 0
	if i := strings.LastIndexByte(s.endpoint, ':'); i >= 0 {
		fmt.Sscan(s.endpoint[i+1:], &port)
	}
	return map[string]any{"workflows": []map[string]any{{
		"id": s.workflowID, "name": s.cfg.Workflow, "port": port, "pubPort": 0}}}
}

func protocolf(format string, a ...any) error {
	return &Error{Kind: KindProtocol, Msg: fmt.Sprintf(format, a...)}
}

// DecodeMessageMutation parses and checks the args of a "graphql" request
// as cylc-flow's server would execute MessageMutation: request_string must
// be MessageMutation (authbench runs no other GraphQL request), $wFlows a
// non-null list of workflow ids, $taskJob a non-null string, $eventTime a
// string or null, and $messages a non-null list of [severity, message]
// string pairs (Resolvers.put_messages unpacks each into two; a null list
// fails there). It returns the message args (Workflow is $wFlows[0], ""
// when the list is empty) and every workflow in $wFlows. Any other input is
// a KindProtocol *Error: cylc-flow answers such a request with an error
// reply (WorkflowRuntimeServer.graphql raises on execution errors).
// Variable names are case-sensitive, as in GraphQL; unknown args are
// refused (WorkflowRuntimeServer.graphql takes no others) and unknown
// variables ignored.
func DecodeMessageMutation(args json.RawMessage) (MessageArgs, []string, error) {
	var top map[string]json.RawMessage
	if len(args) == 0 {
		return MessageArgs{}, nil, protocolf("graphql: no args")
	}
	if err := json.Unmarshal(args, &top); err != nil || top == nil {
		return MessageArgs{}, nil, protocolf("graphql args: want an object")
	}
	for k := range top {
		switch k {
		case "request_string", "variables", "meta":
		default:
			return MessageArgs{}, nil, protocolf("graphql: unexpected argument %q", k)
		}
	}
	var rs string
	if raw, ok := top["request_string"]; !ok || json.Unmarshal(raw, &rs) != nil || rs == "" {
		return MessageArgs{}, nil, protocolf("graphql: request_string must be a non-empty string")
	}
	if !IsMessageMutation(rs) {
		return MessageArgs{}, nil, protocolf("graphql: only the job message mutation of cylc-flow's task_message.py is served")
	}
	var vars map[string]json.RawMessage
	if raw, ok := top["variables"]; !ok || json.Unmarshal(raw, &vars) != nil || vars == nil {
		return MessageArgs{}, nil, protocolf("graphql: variables must be an object")
	}
	isNull := func(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }
	var a MessageArgs
	var workflows []*string
	if raw := vars["wFlows"]; isNull(raw) {
		return MessageArgs{}, nil, protocolf("graphql: variable $wFlows of required type [WorkflowID]! was not provided")
	} else if err := json.Unmarshal(raw, &workflows); err != nil {
		return MessageArgs{}, nil, protocolf("graphql: variable $wFlows: want a list of workflow ids")
	}
	wf := make([]string, 0, len(workflows))
	for _, w := range workflows {
		if w == nil || *w == "" {
			return MessageArgs{}, nil, protocolf("graphql: variable $wFlows: null or empty workflow id")
		}
		wf = append(wf, *w)
	}
	if len(wf) > 0 {
		a.Workflow = wf[0]
	}
	if raw := vars["taskJob"]; isNull(raw) {
		return MessageArgs{}, nil, protocolf("graphql: variable $taskJob of required type String! was not provided")
	} else if err := json.Unmarshal(raw, &a.TaskJob); err != nil {
		return MessageArgs{}, nil, protocolf("graphql: variable $taskJob: want a string")
	}
	if raw := vars["eventTime"]; !isNull(raw) {
		if err := json.Unmarshal(raw, &a.EventTime); err != nil {
			return MessageArgs{}, nil, protocolf("graphql: variable $eventTime: want a string")
		}
	}
	var msgs [][]*string
	if raw := vars["messages"]; isNull(raw) {
		return MessageArgs{}, nil, protocolf("graphql: variable $messages: want a list of [severity, message] pairs, got null")
	} else if err := json.Unmarshal(raw, &msgs); err != nil {
		return MessageArgs{}, nil, protocolf("graphql: variable $messages: want a list of [severity, message] string pairs")
	}
	a.Messages = make([][2]string, 0, len(msgs))
	for i, m := range msgs {
		if len(m) != 2 || m[0] == nil || m[1] == nil {
			return MessageArgs{}, nil, protocolf("graphql: variable $messages[%d]: want [severity, message]", i)
		}
		a.Messages = append(a.Messages, [2]string{*m[0], *m[1]})
	}
	return a, wf, nil
}

// JobMessage returns the job message a request carries, in either
// encoding: the "message" command's args, or a "graphql" request's
// MessageMutation variables (Workflow filled). ok is false for any other
// command; err is a KindProtocol *Error when the args do not parse. Schemes
// that authorise job messages per job use it, so that both encodings are
// held to the same rule.
func JobMessage(req *Request) (a MessageArgs, ok bool, err error) {
	switch req.Command {
	case CmdMessage:
		if err := json.Unmarshal(req.Args, &a); err != nil {
			return MessageArgs{}, true, protocolf("message args: %v", err)
		}
		return a, true, nil
	case CmdGraphQL:
		a, _, err := DecodeMessageMutation(req.Args)
		return a, true, err
	}
	return MessageArgs{}, false, nil
}

// matchesWorkflow reports whether a $wFlows entry names this workflow: its
// name, or ~user/name. (cylc-flow's Resolvers.mutator matches the entries
// as workflow id tokens, with globs; authbench takes them literally.)
func (s *Server) matchesWorkflow(w string) bool {
	if w == s.cfg.Workflow {
		return true
	}
	if rest, ok := strings.CutPrefix(w, "~"); ok {
		_, name, ok := strings.Cut(rest, "/")
		return ok && name == s.cfg.Workflow
	}
	return false
}

// graphQLMessage serves a "graphql" request, which authbench accepts only
// as MessageMutation (WorkflowRuntimeServer.graphql in
// cylc/flow/network/server.py executes it; the Message mutation in
// cylc/flow/network/schema.py resolves through Resolvers.mutator and
// _mutation_mapper to put_messages in cylc/flow/network/resolvers.py). The
// serving model takes the messages: the cylc model queues them
// (queueMessages), the fast model appends them to job.status as for the
// "message" command. Either way the
// reply is what cylc-flow's graphql endpoint returns for the mutation,
// executed.data:
//
//	{"message": {"result": [{"id": "~owner/workflow",
//	                         "response": [true, "Messages queued: N"]}]}}
//
// (the Message mutation's GenericScalar result is Resolvers.mutator's
// [{'id': w_id, 'response': (True, 'Messages queued: N')}], the tuple
// encoded as a JSON list). When no $wFlows entry names this workflow
// cylc-flow replies with data, [{"response": [false, "No matching workflow
// in [...]"]}], which `cylc message` ignores, losing the messages;
// authbench refuses the request with a protocol error instead, so that a
// misaddressed benchmark fails loudly.
func (s *Server) graphQLMessage(req *Request) (any, error) {
	a, workflows, err := DecodeMessageMutation(req.Args)
	if err != nil {
		return nil, err
	}
	found := false
	for _, w := range workflows {
		if s.matchesWorkflow(w) {
			found = true
			break
		}
	}
	if !found {
		return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("graphql: no matching workflow in [%s]", s.cfg.Workflow)}
	}
	n := len(a.Messages)
	if n == 0 {
		// An empty list queues nothing in cylc-flow; the job id must still
		// parse. (The model is not asked: the fast model's message command
		// needs a message, and the cylc model's queue would take none.)
		if _, err := ParseJobID(a.TaskJob); err != nil {
			return nil, &Error{Kind: KindProtocol, Msg: err.Error()}
		}
	} else if n, err = s.serving.messages(a); err != nil {
		return nil, err
	}
	return json.RawMessage(graphQLMessageReply(s.workflowID, n)), nil
}

// graphQLMessageReply is the data of the reply to a message mutation that
// queued n messages.
func graphQLMessageReply(workflowID string, n int) []byte {
	b := make([]byte, 0, 96+len(workflowID))
	b = append(b, `{"message":{"result":[{"id":`...)
	b = appendString(b, workflowID)
	b = append(b, `,"response":[true,`...)
	b = appendString(b, fmt.Sprintf("Messages queued: %d", n))
	return append(b, "]}]}}"...)
}
