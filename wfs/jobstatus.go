// A job message as job.status lines, and the checks on its fields.

package wfs

import (
	"fmt"
	"strings"
)

// JobStatusLines are a's messages as job.status lines, as cylc-flow's
// task_message.py (_append_job_status_file) writes them:
// CYLC_MESSAGE=<time>|<severity>|<text>, newlines in the text flattened.
//
// The text's line breaks are flattened; the event time and severity go in
// as they are, so CheckJobStatusFields must have passed them first, or a
// line break in them would forge lines (CYLC_JOB_TOKEN=..., a fake
// "succeeded").
func JobStatusLines(a MessageArgs) []byte {
	var b strings.Builder
	for _, m := range a.Messages {
		text := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(m[1])
		fmt.Fprintf(&b, "CYLC_MESSAGE=%s|%s|%s\n", a.EventTime, m[0], text)
	}
	return []byte(b.String())
}

// CheckJobStatusFields refuses a job message whose event time or severity
// could forge job.status lines or fields: control characters (line breaks
// among them) or the field separator '|'. The text may hold anything; its
// line breaks are flattened when it is written.
func CheckJobStatusFields(a MessageArgs) error {
	bad := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '|' })
	}
	if bad(a.EventTime) {
		return protocolf("message args: event time %q holds a control character or '|'", a.EventTime)
	}
	for _, m := range a.Messages {
		if bad(m[0]) {
			return protocolf("message args: severity %q holds a control character or '|'", m[0])
		}
	}
	return nil
}
