package slstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// authority is the emulator's CA and the server certificate it signed. The
// CA is generated at start unless one is handed in (Config.CA), so that no
// key material lives in the repository and every emulator has its own
// trust root unless a test asks to keep one.
type authority struct {
	ca     tls.Certificate // with its private key, for Server.CA
	caPEM  []byte
	pool   *x509.CertPool
	server tls.Certificate
}

// newAuthority signs a server certificate valid for the loopback names
// plus any extra hosts (names or IP literals) with ca, or with a CA it
// generates when ca is nil.
func newAuthority(ca *tls.Certificate, hosts []string) (*authority, error) {
	now := time.Now()
	var (
		caCert *x509.Certificate
		caKey  crypto.Signer
		err    error
	)
	if ca != nil {
		caCert, caKey, err = parseCA(ca)
	} else {
		caCert, caKey, err = generateCA(now)
	}
	if err != nil {
		return nil, err
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("slstest: generate server key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"slskafka"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("slstest: create server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("slstest: parse server certificate: %w", err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &authority{
		ca:    tls.Certificate{Certificate: [][]byte{caCert.Raw}, PrivateKey: caKey, Leaf: caCert},
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}),
		pool:  pool,
		server: tls.Certificate{
			Certificate: [][]byte{leafDER, caCert.Raw},
			PrivateKey:  leafKey,
			Leaf:        leaf,
		},
	}, nil
}

// generateCA creates a CA valid for ten years.
func generateCA(now time.Time) (*x509.Certificate, crypto.Signer, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("slstest: generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "slstest emulator CA", Organization: []string{"slskafka"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("slstest: create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, fmt.Errorf("slstest: parse CA certificate: %w", err)
	}
	return caCert, caKey, nil
}

// parseCA checks a CA handed in through Config.CA.
func parseCA(ca *tls.Certificate) (*x509.Certificate, crypto.Signer, error) {
	if len(ca.Certificate) == 0 {
		return nil, nil, errors.New("slstest: Config.CA holds no certificate; pass what Server.CA returned, or tls.LoadX509KeyPair of a CA")
	}
	cert := ca.Leaf
	if cert == nil {
		var err error
		if cert, err = x509.ParseCertificate(ca.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("slstest: Config.CA: parse certificate: %w", err)
		}
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, errors.New("slstest: Config.CA is not a CA certificate (needs basic constraints CA:true and key usage certSign)")
	}
	key, ok := ca.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("slstest: Config.CA has no private key to sign the server certificate with")
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, errors.New("slstest: Config.CA: the private key does not belong to the certificate")
	}
	return cert, key, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed
		// serial is still a valid certificate.
		return big.NewInt(1)
	}
	return n
}
