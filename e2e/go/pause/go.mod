module kubeha.test/e2e/pause

go 1.26.0
