package wfs

import (
	"encoding/json"
	"fmt"
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

// JobMessageRequest is a job message as a client sends it to a WFS of the
// given model. Against the cylc model it does what `cylc message` does
// (cylc-flow cylc/flow/task_message.py, record_messages): it appends the
// message to the job's job.status itself through files, without fsync
// (_append_job_status_file), then encodes the GraphQL mutation
// (send_messages, MUTATION); a.Workflow must be set. Against the fast model
// it encodes the message command, and the WFS appends.
func JobMessageRequest(model string, run *RunDir, files *Files, a MessageArgs, meta Meta) ([]byte, error) {
	if model != ModelCylc {
		return EncodeRequest(CmdMessage, a, meta)
	}
	id, err := ParseJobID(a.TaskJob)
	if err != nil {
		return nil, err
	}
	if err := CheckJobStatusFields(a); err != nil {
		return nil, err
	}
	if err := files.AppendFile(run.JobStatusPath(id), JobStatusLines(a), 0o600); err != nil {
		return nil, fmt.Errorf("append job.status: %w", err)
	}
	return EncodeMessageMutation(a, meta)
}
