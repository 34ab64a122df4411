module kubeha.test/e2e/probe

go 1.26.0
