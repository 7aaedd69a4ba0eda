// Package pace spaces the sends of an open-loop load: a Pacer says, from
// the time elapsed since the start and the sends made so far, how long to
// wait before the next one, or to stop. It holds the pacers the load
// engine (package scenarios) and the WLCG token flows (package flows)
// share: constant, linear ramps, bursts and Poisson arrivals. It is a leaf:
// it imports nothing of the project.
package pace
