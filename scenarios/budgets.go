package scenarios

import yaml "go.yaml.in/yaml/v3"

// budgetShorthand rewrites each budget written as a bare duration
// ("command_p90_budget: 100ms") into the mapping it stands for
// ({value: 100ms}, with no source), in place, before the strict check.
func budgetShorthand(root *yaml.Node) {
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "budgets" || v.Kind != yaml.MappingNode {
			continue
		}
		for j := 1; j < len(v.Content); j += 2 {
			b := v.Content[j]
			if b.Kind != yaml.ScalarNode || b.Tag == "!!null" {
				continue
			}
			key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "value", Line: b.Line, Column: b.Column}
			val := *b
			*b = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Line: val.Line, Column: val.Column,
				Content: []*yaml.Node{key, &val}}
		}
	}
}
