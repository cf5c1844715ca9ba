namespace Appliance.Acme;

/// <summary>
/// Which URLs an ACME server may hand the client (directory entries, Location, order, authorization, challenge,
/// finalize and certificate URLs, Link targets, renewalInfo): absolute http(s) URLs without user information, and
/// https whenever the directory is https, so no answer can move the exchange off TLS. Any host is allowed: RFC 8555
/// section 7.1 does not tie resources to the directory's host, and some CAs serve them from others.
/// </summary>
internal static class AcmeServerUrl
{
    /// <summary>The URL as a <see cref="Uri"/>; throws <see cref="AcmeException"/> (MalformedResponse) naming it and where it came from.</summary>
    public static Uri Check(string? url, Uri directory, string what)
    {
        // "/path" parses as an absolute file: URI on Unix; the server meant a relative reference, which only Location may be.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || url.StartsWith('/'))
            throw Refused(url, directory, what, "it is not an absolute URL");
        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            throw Refused(url, directory, what, $"its scheme '{uri.Scheme}' is not https");
        if (uri.Scheme == Uri.UriSchemeHttp && directory.Scheme == Uri.UriSchemeHttps)
            throw Refused(url, directory, what, "it is plain http while the directory is https, so anyone on the path could read and change the exchange");
        if (uri.UserInfo.Length > 0)
            throw Refused(url, directory, what, "it carries a user name or password");
        return uri;
    }

    private static AcmeException Refused(string? url, Uri directory, string what, string why) =>
        new(AcmeFailure.MalformedResponse,
            $"The ACME server {directory} handed out {what} '{url}', which the appliance refuses: {why}. "
            + "The CA is misconfigured or its answer was tampered with; check the directory URL, or contact the CA.");
}
