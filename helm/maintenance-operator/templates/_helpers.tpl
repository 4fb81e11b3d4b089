{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "mo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name. */}}
{{- define "mo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mo.labels" -}}
helm.sh/chart: {{ include "mo.chart" . }}
{{ include "mo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: maintenance-operator
{{- end }}

{{- define "mo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mo.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Peering is on when asked for, or implied by a standby replica. */}}
{{- define "mo.peering" -}}
{{- if and (not .Values.sharding.enabled) (or .Values.peering.enabled .Values.standby.enabled) }}true{{ end }}
{{- end }}

{{- define "mo.webhookServiceName" -}}
{{- printf "%s-webhook" (include "mo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mo.webhookSecretName" -}}
{{- printf "%s-webhook-tls" (include "mo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Rules the operator needs in every namespace it watches (a Role there, or a ClusterRole for all). */}}
{{- define "mo.namespacedRules" -}}
# The four kinds: kopf watches them, patches finalizers/annotations and writes status.
- apiGroups: ["maintenance.chatapp.io"]
  resources: ["maintenancepolicies", "healthassessments", "remediations", "maintenancereports"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["maintenance.chatapp.io"]
  resources: ["maintenancepolicies/status", "healthassessments/status", "remediations/status", "maintenancereports/status"]
  verbs: ["get", "update", "patch"]
# Remediation targets: patch only (scale, restart, rollback); never create or delete.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "patch"]
# Rollback reads the template of an older revision.
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch"]
# Per-target execution lock.
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# Configuration and security audits: read-only, plus questions about the target's ServiceAccount.
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list"]
- apiGroups: ["authorization.k8s.io"]
  resources: ["localsubjectaccessreviews"]
  verbs: ["create"]
- apiGroups: ["aquasecurity.github.io"]
  resources: ["vulnerabilityreports"]
  verbs: ["get", "list"]
{{- with .Values.rbac.secretNames }}
# Only the named Secrets, only get: an empty resourceNames would mean every Secret.
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: {{ toJson . }}
  verbs: ["get"]
{{- end }}
{{- if .Values.prometheusRule.fromPolicies }}
# One PrometheusRule per policy, rendered from its indicators (server-side apply).
- apiGroups: ["monitoring.coreos.com"]
  resources: ["prometheusrules"]
  verbs: ["get", "create", "patch"]
{{- end }}
{{- if and (include "mo.peering" .) .Values.watchNamespaces }}
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
{{- end }}

{{/* The Secret holding the approval signing key: the one named in values, or the one the chart creates. */}}
{{- define "mo.approvalKeySecretName" -}}
{{- if .Values.approvalKey.existingSecret }}
{{- .Values.approvalKey.existingSecret }}
{{- else }}
{{- printf "%s-approval-key" (include "mo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "mo.alertReceiverSecretName" -}}
{{- if .Values.alertReceiver.existingSecret }}
{{- .Values.alertReceiver.existingSecret }}
{{- else }}
{{- printf "%s-alert-receiver" (include "mo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
