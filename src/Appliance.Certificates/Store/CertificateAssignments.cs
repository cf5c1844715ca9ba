using System.Net;
using Appliance.Certificates.Selection;

namespace Appliance.Certificates.Store;

/// <summary>
/// Which certificate answers on which local address. Only a stored server certificate with its private key may be
/// assigned (a CA certificate or a keyless one cannot serve TLS there). Addresses are kept in canonical form.
/// </summary>
internal sealed class CertificateAssignments(ICertificatePersistence persistence)
{
    /// <summary>Sets the certificate of each given address (others stay) in one write.</summary>
    public void Set(IReadOnlyList<CertificateAssignment> assignments) => persistence.Write(transaction =>
    {
        var view = transaction.View;
        foreach (var assignment in assignments)
        {
            if (!IPAddress.TryParse(assignment.Address, out var ip))
                throw new CertificateStoreException(StoreFailure.Invalid, $"'{assignment.Address}' is not an IP address; give addresses such as 192.0.2.10 or 2001:db8::10.");
            if (assignment.CertificateId is { } id)
            {
                var certificate = view.Get(id);
                if (KeyTypeServing.Refusal(certificate.FriendlyName, certificate.Facts.KeyAlgorithm) is { } keyType)
                    throw new CertificateStoreException(StoreFailure.Invalid, $"It cannot be assigned to {ip}: {keyType}");
                if (!certificate.HasPrivateKey)
                    throw new CertificateStoreException(StoreFailure.Invalid, $"'{certificate.FriendlyName}' has no private key on this appliance, so it cannot serve {ip}; import its private key first.");
                if (certificate.Facts.IsCertificateAuthority)
                    throw new CertificateStoreException(StoreFailure.Invalid, $"'{certificate.FriendlyName}' is a certificate authority, not a server certificate; assign a server certificate to {ip}.");
            }
            transaction.Assign(SelectionSnapshot.Canonical(ip).ToString(), assignment.CertificateId);
        }
    });
}
