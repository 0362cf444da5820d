{{/* Names, labels, images and the few cross-cutting rules every template shares. */}}

{{- define "todo-app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object-name prefix; kept short enough for "<prefix>-postgres-0"-style children. */}}
{{- define "todo-app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Namespace of every object: the chart-managed one, else the release namespace. */}}
{{- define "todo-app.namespace" -}}
{{- if .Values.namespace.create }}
{{- .Values.namespace.name }}{{/* empty name: validate.yaml fails the render */}}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{- define "todo-app.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "todo-app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: taskflow
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: call with (dict "root" $ "component" "backend"). */}}
{{- define "todo-app.componentLabels" -}}
{{ include "todo-app.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-app.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image reference: repository@digest when pinned, else repository:tag. */}}
{{- define "todo-app.image" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository .tag }}
{{- end }}
{{- end }}

{{- define "todo-app.backend.fullname" -}}{{ include "todo-app.fullname" . }}-backend{{- end }}
{{- define "todo-app.frontend.fullname" -}}{{ include "todo-app.fullname" . }}-frontend{{- end }}
{{- define "todo-app.postgres.fullname" -}}{{ include "todo-app.fullname" . }}-postgres{{- end }}
{{- define "todo-app.migrate.fullname" -}}{{ include "todo-app.fullname" . }}-migrate{{- end }}

{{/* Secret holding DATABASE_URL, BETTER_AUTH_SECRET, OPENAI_API_KEY, POSTGRES_PASSWORD. */}}
{{- define "todo-app.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "todo-app.fullname" . }}
{{- end }}
{{- end }}

{{/* In-cluster URLs: the frontend reaches the backend, the backend fetches JWKS from the frontend, by Service DNS name only. */}}
{{- define "todo-app.backend.url" -}}
{{- printf "http://%s:%d" (include "todo-app.backend.fullname" .) (int .Values.backend.port) }}
{{- end }}
{{- define "todo-app.frontend.internalUrl" -}}
{{- printf "http://%s:%d" (include "todo-app.frontend.fullname" .) (int .Values.frontend.service.port) }}
{{- end }}

{{/* Public base URL the browser uses (frontend BETTER_AUTH_URL). */}}
{{- define "todo-app.frontend.publicUrl" -}}
{{- $f := .Values.frontend }}
{{- if $f.publicUrl }}
{{- $f.publicUrl | trimSuffix "/" }}
{{- else if .Values.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" (ne .Values.ingress.tlsSecretName "")) .Values.ingress.host }}
{{- else if and (eq $f.service.type "NodePort") $f.service.nodePort }}
{{- printf "http://localhost:%d" (int $f.service.nodePort) }}
{{- else }}
{{- printf "http://localhost:%d" (int $f.service.port) }}
{{- end }}
{{- end }}

{{/* Pod-level security context shared by every pod (Pod Security Standard "restricted"). */}}
{{- define "todo-app.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "todo-app.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Spreading across nodes for a component: call with (dict "root" $ "component" "backend"). */}}
{{- define "todo-app.spreading" -}}
{{- $s := .root.Values.scheduling }}
{{- if eq $s.podAntiAffinity "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "todo-app.selectorLabels" . | nindent 14 }}
{{- else if eq $s.podAntiAffinity "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "todo-app.selectorLabels" . | nindent 12 }}
{{- end }}
{{- if $s.topologySpread }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "todo-app.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end }}

{{/*
Checks that span several values (values.schema.json covers single values). Every message
names the value to set and what to do. Rendered by validate.yaml.
*/}}
{{- define "todo-app.validate" -}}
{{- $v := .Values }}
{{- if and $v.namespace.create (not $v.namespace.name) }}
{{- fail "namespace.create is true but namespace.name is empty: set namespace.name (helm keeps its release record in the release namespace, so the chart-managed namespace needs its own name)" }}
{{- end }}
{{- if $v.namespace.create }}
{{- if $v.secrets.existingSecret }}
{{- fail (printf "namespace.create is true but secrets.existingSecret is set: that Secret must already exist in namespace %s, so the chart cannot create %s. Create and label the namespace yourself (kubectl create namespace %s; kubectl label namespace %s pod-security.kubernetes.io/enforce=restricted) and set namespace.create=false" $v.namespace.name $v.namespace.name $v.namespace.name $v.namespace.name) }}
{{- end }}
{{- if and (not $v.postgres.enabled) $v.migrations.enabled }}
{{- fail (printf "namespace.create is true with an external database (postgres.enabled=false): the pre-install migration hook would run before the chart creates namespace %s. Create and label the namespace yourself (kubectl create namespace %s; kubectl label namespace %s pod-security.kubernetes.io/enforce=restricted) and set namespace.create=false" $v.namespace.name $v.namespace.name $v.namespace.name) }}
{{- end }}
{{- end }}
{{- if eq $v.environment "prod" }}
{{- if not $v.secrets.existingSecret }}
{{- fail "environment=prod needs secrets.existingSecret: create a Secret with DATABASE_URL, BETTER_AUTH_SECRET (optionally OPENAI_API_KEY, and POSTGRES_PASSWORD with postgres.enabled) and set secrets.existingSecret to its name; prod never renders secret values from chart values" }}
{{- end }}
{{- range $c := list "backend" "frontend" }}
{{- $comp := index $v $c }}
{{- if and (not $comp.autoscaling.enabled) (lt (int $comp.replicaCount) 1) }}
{{- fail (printf "environment=prod needs %s.replicaCount >= 1 (got %d)" $c (int $comp.replicaCount)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (not $v.postgres.enabled) (not $v.secrets.existingSecret) (not $v.secrets.databaseUrl) }}
{{- fail "postgres.enabled is false, so the external database must be given: set secrets.databaseUrl (postgresql://...) or secrets.existingSecret (a Secret with DATABASE_URL)" }}
{{- end }}
{{- if and (not $v.postgres.enabled) $v.networkPolicy.enabled (empty $v.externalDatabase.cidrs) }}
{{- fail "postgres.enabled is false and networkPolicy.enabled is true: set externalDatabase.cidrs (and externalDatabase.port) to where the database lives, or the backend cannot reach it" }}
{{- end }}
{{- if and $v.ingress.enabled (not $v.ingress.host) }}
{{- fail "ingress.enabled is true but ingress.host is empty: set ingress.host to the public host name (e.g. taskflow.example.com)" }}
{{- end }}
{{- range $c := list "backend" "frontend" }}
{{- $comp := index $v $c }}
{{- if le (int $comp.terminationGracePeriodSeconds) (int $comp.drainSeconds) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be longer than %s.drainSeconds (%d), or in-flight requests are killed during the drain" $c (int $comp.terminationGracePeriodSeconds) $c (int $comp.drainSeconds)) }}
{{- end }}
{{- if and $comp.autoscaling.enabled (gt (int $comp.autoscaling.minReplicas) (int $comp.autoscaling.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas (%d) is greater than %s.autoscaling.maxReplicas (%d)" $c (int $comp.autoscaling.minReplicas) $c (int $comp.autoscaling.maxReplicas)) }}
{{- end }}
{{- end }}
{{- if le (int $v.backend.terminationGracePeriodSeconds) (add (int $v.backend.drainSeconds) (int $v.chat.timeoutSeconds)) }}
{{- fail (printf "backend.terminationGracePeriodSeconds (%d) must exceed backend.drainSeconds + chat.timeoutSeconds (%d), or a chat request in flight at shutdown is killed" (int $v.backend.terminationGracePeriodSeconds) (add (int $v.backend.drainSeconds) (int $v.chat.timeoutSeconds))) }}
{{- end }}
{{- if and (ne $v.frontend.service.type "NodePort") $v.frontend.service.nodePort }}
{{- fail (printf "frontend.service.nodePort is set but frontend.service.type is %s: set frontend.service.type=NodePort or frontend.service.nodePort=null" $v.frontend.service.type) }}
{{- end }}
{{- end }}

{{/*
Pod annotations that roll pods when their configuration changes. The secret checksum covers
the values the Secret is made from, not its rendered data: generated values differ per render
and would roll pods on every upgrade.
*/}}
{{- define "todo-app.secretChecksum" -}}
{{- dict "secrets" .Values.secrets "postgresAuth" .Values.postgres.auth "postgres" .Values.postgres.enabled | toJson | sha256sum }}
{{- end }}

{{/*
Env entries read from the Secret: call with (dict "root" $ "keys" (list "DATABASE_URL" ...)).
OPENAI_API_KEY is optional (chat is disabled without it), every other key is required.
*/}}
{{- define "todo-app.secretEnv" -}}
{{- $secret := include "todo-app.secretName" .root }}
{{- range .keys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ . }}
      {{- if eq . "OPENAI_API_KEY" }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/*
Migrations run as a pre-install/pre-upgrade hook when the database is external (it exists
before the release). Beside the in-cluster Postgres a pre-install hook would wait forever for
a database the release has not created yet, so there the Job is an ordinary release object,
one per revision, retrying until Postgres answers; backend pods stay unready (/readyz) until
it is done.
*/}}
{{- define "todo-app.migrate.asHook" -}}
{{- if not .Values.postgres.enabled }}true{{ end }}
{{- end }}

{{/* Hook annotations for migration objects; weight orders ServiceAccount/Secret before the Job. */}}
{{- define "todo-app.migrate.hookAnnotations" -}}
{{- if include "todo-app.migrate.asHook" .root }}
annotations:
  helm.sh/hook: pre-install,pre-upgrade
  helm.sh/hook-weight: {{ .weight | quote }}
  helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}
{{- end }}

{{/* Non-secret backend settings: the ConfigMap's data, and the source of the pods' checksum/config. */}}
{{- define "todo-app.backend.configData" -}}
PORT: {{ .Values.backend.port | quote }}
# JWKS is fetched in-cluster from the frontend Service, never through the public URL.
BETTER_AUTH_URL: {{ include "todo-app.frontend.internalUrl" . | quote }}
JWT_ISSUER: {{ .Values.jwt.issuer | quote }}
JWT_AUDIENCE: {{ .Values.jwt.audience | quote }}
OPENAI_BASE_URL: {{ .Values.chat.baseUrl | quote }}
OPENAI_MODEL: {{ .Values.chat.model | quote }}
CHAT_TIMEOUT_SECONDS: {{ .Values.chat.timeoutSeconds | quote }}
DRAIN_SECONDS: {{ .Values.backend.drainSeconds | quote }}
LOG_LEVEL: {{ .Values.backend.logLevel | quote }}
{{- end }}

{{/* Non-secret frontend settings: the ConfigMap's data, and the source of the pods' checksum/config. */}}
{{- define "todo-app.frontend.configData" -}}
HOSTNAME: "0.0.0.0"
PORT: {{ .Values.frontend.port | quote }}
# The URL the browser uses; Better Auth checks request origins against it.
BETTER_AUTH_URL: {{ include "todo-app.frontend.publicUrl" . | quote }}
BACKEND_URL: {{ include "todo-app.backend.url" . | quote }}
JWT_ISSUER: {{ .Values.jwt.issuer | quote }}
JWT_AUDIENCE: {{ .Values.jwt.audience | quote }}
DRAIN_SECONDS: {{ .Values.frontend.drainSeconds | quote }}
TRUSTED_ORIGINS: {{ join "," .Values.frontend.trustedOrigins | quote }}
{{- end }}
