// psa-check evaluates every pod template in rendered manifests against the Pod Security
// Standard "restricted" with the Pod Security admission controller's own checks
// (k8s.io/pod-security-admission/policy), for each Kubernetes version given with -version.
// It is what a namespace labelled pod-security.kubernetes.io/enforce=restricted would admit.
//
//	psa-check -version 1.28 -version latest FILE...
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

type versions []string

func (v *versions) String() string     { return strings.Join(*v, ",") }
func (v *versions) Set(s string) error { *v = append(*v, s); return nil }

type pod struct {
	name string
	meta metav1.ObjectMeta
	spec corev1.PodSpec
}

// podsIn returns the pod templates of the workload kinds a chart can render.
func podsIn(doc []byte) ([]pod, error) {
	var head struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	name := head.Kind + "/" + head.Metadata.Name
	switch head.Kind {
	case "Pod":
		var o corev1.Pod
		err := yaml.UnmarshalStrict(doc, &o)
		return []pod{{name, o.ObjectMeta, o.Spec}}, err
	case "Deployment":
		var o appsv1.Deployment
		err := yaml.UnmarshalStrict(doc, &o)
		return []pod{{name, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec}}, err
	case "StatefulSet":
		var o appsv1.StatefulSet
		err := yaml.UnmarshalStrict(doc, &o)
		return []pod{{name, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec}}, err
	case "DaemonSet":
		var o appsv1.DaemonSet
		err := yaml.UnmarshalStrict(doc, &o)
		return []pod{{name, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec}}, err
	case "Job":
		var o batchv1.Job
		err := yaml.UnmarshalStrict(doc, &o)
		return []pod{{name, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec}}, err
	case "CronJob":
		var o batchv1.CronJob
		err := yaml.UnmarshalStrict(doc, &o)
		return []pod{{name, o.Spec.JobTemplate.Spec.Template.ObjectMeta, o.Spec.JobTemplate.Spec.Template.Spec}}, err
	}
	return nil, nil
}

func main() {
	var vs versions
	flag.Var(&vs, "version", "Kubernetes version of the policy (1.28, latest); repeatable")
	flag.Parse()
	if len(vs) == 0 || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: psa-check -version 1.28 [-version latest] FILE...")
		os.Exit(2)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "psa-check:", err)
		os.Exit(2)
	}
	checked, violations := 0, 0
	for _, file := range flag.Args() {
		f, err := os.Open(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "psa-check:", err)
			os.Exit(2)
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "psa-check: %s: %v\n", file, err)
				os.Exit(2)
			}
			pods, err := podsIn(doc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "psa-check: %s: %v\n", file, err)
				os.Exit(2)
			}
			for _, p := range pods {
				for _, v := range vs {
					version, err := api.ParseVersion(v)
					if err != nil {
						fmt.Fprintf(os.Stderr, "psa-check: -version %q: %v\n", v, err)
						os.Exit(2)
					}
					checked++
					level := api.LevelVersion{Level: api.LevelRestricted, Version: version}
					for _, result := range evaluator.EvaluatePod(level, &p.meta, &p.spec) {
						if !result.Allowed {
							violations++
							fmt.Printf("%s: %s violates restricted:%s: %s (%s)\n", file, p.name, v, result.ForbiddenReason, result.ForbiddenDetail)
						}
					}
				}
			}
		}
		f.Close()
	}
	fmt.Printf("psa-check: %d pod templates x versions checked against restricted, %d violations\n", checked, violations)
	if violations > 0 || checked == 0 {
		os.Exit(1)
	}
}
