{{/*
Config-channel certificates (mode "helm"). One CA per release signs the controller's
server certificate and the dataplanes' client certificate; the CA key is never stored,
so renewal re-issues the CA and both leaves together.

Stability: an existing pair of Secrets (lookup) is reused as long as it was issued with the
same renewalToken and is further than renewBeforeDays from expiry (annotation
keel.dev/not-after, written at issue time). `helm template` and --dry-run cannot look up,
so they always show freshly generated material.

The result is cached in .Values so every template of one render (the Secrets and the
pods' checksum annotations) sees the same certificates.
*/}}
{{- define "keel.configTLS.material" -}}
{{- $tls := .Values.configChannel.tls -}}
{{- if not (hasKey $tls "_material") -}}
{{- $ns := include "keel.namespace" . -}}
{{- $cOld := lookup "v1" "Secret" $ns (include "keel.configTLS.controllerSecret" .) -}}
{{- $dOld := lookup "v1" "Secret" $ns (include "keel.configTLS.dataplaneSecret" .) -}}
{{- $m := dict -}}
{{- if and $cOld $dOld $cOld.data $dOld.data -}}
{{- $ann := default dict $cOld.metadata.annotations -}}
{{- $notAfter := get $ann "keel.dev/not-after" -}}
{{- if and $notAfter (eq (get $ann "keel.dev/renewal-token") (toString $tls.renewalToken)) -}}
{{- $renewAt := sub (toDate "2006-01-02T15:04:05Z07:00" $notAfter | unixEpoch | int64) (mul (int64 $tls.renewBeforeDays) 86400) -}}
{{- if lt (now | unixEpoch | int64) $renewAt -}}
{{- $m = dict "notAfter" $notAfter "caCrt" (get $cOld.data "ca.crt") "serverCrt" (get $cOld.data "tls.crt") "serverKey" (get $cOld.data "tls.key") "clientCrt" (get $dOld.data "tls.crt") "clientKey" (get $dOld.data "tls.key") -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $m -}}
{{- $days := int $tls.validityDays -}}
{{- $ca := genCA (printf "%s-config-ca" (include "keel.fullname" .)) $days -}}
{{- $svc := include "keel.controller.fullname" . -}}
{{- $host := include "keel.controller.serviceHost" . -}}
{{- $sans := list $svc (printf "%s.%s" $svc $ns) $host (printf "%s.cluster.local" $host) -}}
{{- $server := genSignedCert $host nil $sans $days $ca -}}
{{- $client := genSignedCert (include "keel.dataplane.fullname" .) nil nil $days $ca -}}
{{- $notAfter := dateInZone "2006-01-02T15:04:05Z07:00" (now | dateModify (printf "+%dh" (mul $days 24))) "UTC" -}}
{{- $m = dict "notAfter" $notAfter "caCrt" ($ca.Cert | b64enc) "serverCrt" ($server.Cert | b64enc) "serverKey" ($server.Key | b64enc) "clientCrt" ($client.Cert | b64enc) "clientKey" ($client.Key | b64enc) -}}
{{- end -}}
{{- $_ := set $tls "_material" $m -}}
{{- end -}}
{{- toYaml (get $tls "_material") -}}
{{- end -}}

{{/* Pod annotation that rolls the pods when their certificates change. */}}
{{- define "keel.configTLS.checksum" -}}
{{- if and .Values.configChannel.tls.enabled (eq .Values.configChannel.tls.mode "helm") -}}
checksum/config-tls: {{ include "keel.configTLS.material" . | sha256sum }}
{{- end -}}
{{- end -}}
