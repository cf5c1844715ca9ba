namespace Appliance.Audit;

/// <summary>The audit log's words for API tokens, shared by the API and the Users page.</summary>
internal static class TokenAudit
{
    public static string Created(string name) => $"Created the API token '{name}'";
    public static string Revoked(string name) => $"Revoked the API token '{name}'";
}
