using System.Net;
using System.Text;

namespace Appliance.Network;

/// <summary>
/// The request headers that say who the client is and how it came in. A client's own claims are dropped before a
/// site request is forwarded; the appliance then states what it saw itself (<see cref="Forwarded"/>).
/// </summary>
internal static class ForwardingHeaders
{
    public const string XForwardedFor = "X-Forwarded-For";
    public const string XForwardedProto = "X-Forwarded-Proto";
    public const string XForwardedHost = "X-Forwarded-Host";
    public const string ForwardedName = "Forwarded";

    // Names upstream frameworks read as the client's address, scheme or host (nginx realip, Express/Rails trust-proxy
    // lists, Cloudflare/Akamai/Fastly conventions, IIS ARR's X-Original-*).
    private static readonly string[] ExactNames =
    [
        "forwarded", "x-real-ip", "x-client-ip", "true-client-ip", "client-ip", "x-cluster-client-ip", "cf-connecting-ip",
        "fastly-client-ip", "x-originating-ip", "x-remote-ip", "x-remote-addr", "x-host", "x-proxyuser-ip", "x-url-scheme",
    ];

    private static readonly string[] Prefixes = ["x-forwarded", "x-original-"];

    /// <summary>
    /// True for a header a client could use to pose as another address, scheme or host. '_' counts as '-' (CGI-style
    /// servers such as PHP and Django read <c>X_Forwarded_For</c> as <c>X-Forwarded-For</c>), and case is ignored.
    /// </summary>
    public static bool IsClientClaim(string name)
    {
        Span<char> normal = name.Length <= 64 ? stackalloc char[name.Length] : new char[name.Length];
        for (var i = 0; i < name.Length; i++) normal[i] = name[i] == '_' ? '-' : char.ToLowerInvariant(name[i]);
        foreach (var exact in ExactNames)
            if (normal.SequenceEqual(exact)) return true;
        foreach (var prefix in Prefixes)
            if (normal.StartsWith(prefix, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>The client address as the upstream should see it: IPv4-mapped IPv6 addresses as plain IPv4.</summary>
    public static string ClientAddress(IPAddress? address) =>
        address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    /// <summary>
    /// The RFC 7239 <c>Forwarded</c> value for one hop: <c>for=ADDRESS;proto=https;host=HOST</c>. IPv6 addresses are
    /// bracketed and quoted (section 6), and any value that is not a token is a quoted-string (section 4).
    /// </summary>
    public static string Forwarded(IPAddress? client, string? host)
    {
        var value = new StringBuilder("for=");
        if (client is null) value.Append("unknown");
        else
        {
            var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                // The zone index of a link-local address is local to this box; it says nothing to the upstream.
                value.Append(Quoted($"[{new IPAddress(address.GetAddressBytes())}]"));
            else value.Append(address);
        }
        value.Append(";proto=https");
        if (!string.IsNullOrEmpty(host)) value.Append(";host=").Append(IsToken(host) ? host : Quoted(host));
        return value.ToString();
    }

    private static string Quoted(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>RFC 9110 5.6.2 token.</summary>
    private static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => c is > ' ' and < (char)127 && !"\"(),/:;<=>?@[\\]{}".Contains(c));
}
