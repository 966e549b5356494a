"""Operations: health and readiness, later metrics and the operator dashboard."""
