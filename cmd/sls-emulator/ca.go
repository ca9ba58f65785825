package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// loadCA reads the CA certificate and private key that an earlier run
// saved with -ca-key. A missing file is returned as an error matching
// fs.ErrNotExist.
func loadCA(path string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("-ca-key: %w", err)
	}
	// One file holds both PEM blocks; X509KeyPair picks each out.
	ca, err := tls.X509KeyPair(data, data)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("-ca-key %s: want a PEM CA certificate and its private key: %w", path, err)
	}
	return ca, nil
}

// saveCAKey writes the CA certificate and its private key to path, readable
// by the user alone.
func saveCAKey(path string, ca tls.Certificate) error {
	key, err := x509.MarshalPKCS8PrivateKey(ca.PrivateKey)
	if err != nil {
		return fmt.Errorf("-ca-key: encode the CA key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...)
	return writeFileAtomic(path, data, 0o600)
}
