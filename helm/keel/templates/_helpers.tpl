{{/* Names, labels, images and flag rendering shared by every template. */}}

{{- define "keel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keel.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "keel.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "keel.controller.fullname" -}}
{{- printf "%s-controller" (include "keel.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keel.dataplane.fullname" -}}
{{- printf "%s-dataplane" (include "keel.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keel.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "keel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: keel
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "controller"). */}}
{{- define "keel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keel.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "keel.componentLabels" -}}
{{ include "keel.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "keel.controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "keel.controller.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference from an image block: (dict "ctx" $ "image" .Values.controller.image). */}}
{{- define "keel.image" -}}
{{- $img := .image -}}
{{- $repo := $img.image -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" $img.registry $img.image }}{{ end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "keel.dataplane.imageBlock" -}}
{{- toYaml (merge (deepCopy .Values.dataplane.image) .Values.controller.image) -}}
{{- end -}}

{{/* --key=value flags from a map; a null value drops the flag, true gives --key. */}}
{{- define "keel.extraArgs" -}}
{{- range $key, $value := . }}
{{- if kindIs "invalid" $value }}
{{- else if and (kindIs "bool" $value) $value }}
- --{{ $key }}
{{- else }}
- --{{ $key }}={{ $value }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Default spread over nodes and zones (ScheduleAnyway: never blocks scheduling). */}}
{{- define "keel.topologySpread" -}}
{{- if .values.topologySpreadConstraints }}
{{ toYaml .values.topologySpreadConstraints }}
{{- else if .values.defaultTopologySpread }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "keel.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "keel.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Secret names of the config-channel certificates. */}}
{{- define "keel.configTLS.controllerSecret" -}}
{{- if eq .Values.configChannel.tls.mode "existingSecret" -}}
{{- required "configChannel.tls.existingSecret.controller is required with mode existingSecret" .Values.configChannel.tls.existingSecret.controller -}}
{{- else -}}
{{- printf "%s-config-tls" (include "keel.controller.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "keel.configTLS.dataplaneSecret" -}}
{{- if eq .Values.configChannel.tls.mode "existingSecret" -}}
{{- required "configChannel.tls.existingSecret.dataplane is required with mode existingSecret" .Values.configChannel.tls.existingSecret.dataplane -}}
{{- else -}}
{{- printf "%s-config-tls" (include "keel.dataplane.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* DNS name the dataplanes dial and verify in the controller's certificate. */}}
{{- define "keel.controller.serviceHost" -}}
{{- printf "%s.%s.svc" (include "keel.controller.fullname" .) (include "keel.namespace" .) -}}
{{- end -}}

{{- define "keel.watchNamespace" -}}
{{- if .Values.controller.scope.enabled -}}
{{- default (include "keel.namespace" .) .Values.controller.scope.namespace -}}
{{- end -}}
{{- end -}}
