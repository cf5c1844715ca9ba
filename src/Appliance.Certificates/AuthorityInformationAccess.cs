using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates;

/// <summary>
/// The http URLs a certificate's Authority Information Access extension names (RFC 5280 section 4.2.2.1): where its
/// issuer's certificate is (caIssuers) and where its status is answered (OCSP). Other schemes (ldap, https) and a
/// malformed extension name nothing. Read by the OCSP stapling service and the ACME pre-flight.
/// </summary>
public static class AuthorityInformationAccess
{
    public sealed record AccessUrl(bool IsOcsp, Uri Url)
    {
        /// <summary>What the URL is for, in words.</summary>
        public string Purpose => IsOcsp ? "status (OCSP) URL" : "certificate (AIA caIssuers) URL";
    }

    public static IReadOnlyList<AccessUrl> HttpUrls(X509Certificate2 certificate)
    {
        var urls = new List<AccessUrl>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "1.3.6.1.5.5.7.1.1") continue;
            try
            {
                var access = new X509AuthorityInformationAccessExtension(extension.RawData, extension.Critical);
                foreach (var uri in access.EnumerateCAIssuersUris()) Add(false, uri);
                foreach (var uri in access.EnumerateOcspUris()) Add(true, uri);
            }
            catch (CryptographicException)
            {
                return []; // a malformed extension names nothing to reach
            }
        }
        return urls;

        void Add(bool ocsp, string uri)
        {
            if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme == Uri.UriSchemeHttp && parsed.IdnHost.Length > 0)
                urls.Add(new AccessUrl(ocsp, parsed));
        }
    }

    /// <summary>The first http OCSP responder the certificate names, or null.</summary>
    public static Uri? OcspResponder(X509Certificate2 certificate) => HttpUrls(certificate).FirstOrDefault(u => u.IsOcsp)?.Url;
}
