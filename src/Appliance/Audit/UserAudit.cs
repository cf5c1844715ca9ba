namespace Appliance.Audit;

/// <summary>The audit log's words for changes to admins, shared by the API and the Users page.</summary>
internal static class UserAudit
{
    public static string Added(string username) => $"Added the admin '{username}' (initial password to change at the first login)";
    public static string Removed(string username) => $"Removed the admin '{username}' with their sessions and API tokens";
    public static string Reset(string username) =>
        $"Reset the password of the admin '{username}' to a one-time password; their sessions ended and their API tokens were revoked";
}
