{{/* The chart's name, or nameOverride. */}}
{{- define "gpumarket.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object's name: fullnameOverride, else the release name when it contains the
chart's name (so release "gpumarket" names objects exactly as manifests/ does), else
"<release>-<chart>".
*/}}
{{- define "gpumarket.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "gpumarket.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gpumarket.operator.fullname" -}}{{ include "gpumarket.fullname" . }}-operator{{- end -}}
{{- define "gpumarket.agent.fullname" -}}{{ include "gpumarket.fullname" . }}-agent{{- end -}}

{{/* Labels Helm owns, on every object. */}}
{{- define "gpumarket.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "gpumarket.name" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "gpumarket.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gpumarket.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gpumarket.agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gpumarket.name" . }}-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gpumarket.operator.labels" -}}
{{ include "gpumarket.operator.selectorLabels" . }}
{{ include "gpumarket.commonLabels" . }}
{{- end -}}

{{- define "gpumarket.agent.labels" -}}
{{ include "gpumarket.agent.selectorLabels" . }}
{{ include "gpumarket.commonLabels" . }}
{{- end -}}

{{/* Labels of objects that belong to the whole release (monitoring). */}}
{{- define "gpumarket.labels" -}}
app.kubernetes.io/name: {{ include "gpumarket.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "gpumarket.commonLabels" . }}
{{- end -}}

{{- define "gpumarket.operator.image" -}}
{{ .Values.operator.image.repository }}:{{ .Values.operator.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "gpumarket.agent.image" -}}
{{ .Values.agent.image.repository }}:{{ .Values.agent.image.tag | default .Chart.AppVersion }}
{{- end -}}
