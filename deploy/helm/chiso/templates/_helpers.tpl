{{/* The image reference: repository@digest when a digest is set, else repository:tag. */}}
{{- define "chiso.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ required "image.tag or image.digest" .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* Labels on every object; `name` is the service. Pods carry only the first two, as
     deploy/k8s does, so selectors stay stable across chart versions. */}}
{{- define "chiso.podLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: chiso
{{- end -}}

{{- define "chiso.labels" -}}
{{ include "chiso.podLabels" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Hardening every container has. */}}
{{- define "chiso.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}
