namespace Appliance.Tpm.Marshalling;

// Values from TPM 2.0 Library Specification Part 2 (Structures), the sections named on each type.

/// <summary>TPM_CC (Part 2, 6.5): the command codes this library sends.</summary>
internal enum TpmCc : uint
{
    CreatePrimary = 0x0000_0131,
    Startup = 0x0000_0144,
    Create = 0x0000_0153,
    Load = 0x0000_0157,
    Unseal = 0x0000_015E,
    FlushContext = 0x0000_0165,
    ReadPublic = 0x0000_0173,
    StartAuthSession = 0x0000_0176,
    GetCapability = 0x0000_017A,
    GetRandom = 0x0000_017B,
    PcrRead = 0x0000_017E,
    PolicyPcr = 0x0000_017F,
    PcrExtend = 0x0000_0182,
    PolicyGetDigest = 0x0000_0189,
}

/// <summary>TPM_ALG_ID (Part 2, 6.3).</summary>
internal enum TpmAlg : ushort
{
    Error = 0x0000,
    Rsa = 0x0001,
    Sha1 = 0x0004,
    Hmac = 0x0005,
    Aes = 0x0006,
    KeyedHash = 0x0008,
    Xor = 0x000A,
    Sha256 = 0x000B,
    Sha384 = 0x000C,
    Sha512 = 0x000D,
    Null = 0x0010,
    Ecc = 0x0023,
    Cfb = 0x0043,
}

/// <summary>TPM_ECC_CURVE (Part 2, 6.4).</summary>
internal enum TpmEccCurve : ushort
{
    NistP256 = 0x0003,
}

/// <summary>TPM_ST (Part 2, 6.9): command and response tags.</summary>
internal enum TpmSt : ushort
{
    NoSessions = 0x8001,
    Sessions = 0x8002,
    Creation = 0x8021,
}

/// <summary>TPM_SU (Part 2, 6.10).</summary>
internal enum TpmSu : ushort
{
    Clear = 0x0000,
    State = 0x0001,
}

/// <summary>TPM_SE (Part 2, 6.11).</summary>
internal enum TpmSe : byte
{
    Hmac = 0x00,
    Policy = 0x01,
    Trial = 0x03,
}

/// <summary>TPM_CAP (Part 2, 6.12).</summary>
internal enum TpmCap : uint
{
    TpmProperties = 0x0000_0006,
}

/// <summary>TPM_PT (Part 2, 6.13): the fixed properties read for the status page.</summary>
internal enum TpmPt : uint
{
    FamilyIndicator = 0x100,
    Manufacturer = 0x105,
    VendorString1 = 0x106,
    VendorString2 = 0x107,
    VendorString3 = 0x108,
    VendorString4 = 0x109,
    FirmwareVersion1 = 0x10B,
    FirmwareVersion2 = 0x10C,
}

/// <summary>TPM_RH / TPM_RS handles (Part 2, 7.4).</summary>
internal static class TpmRh
{
    public const uint Owner = 0x4000_0001;
    public const uint Null = 0x4000_0007;
    public const uint Password = 0x4000_0009;
    public const uint Endorsement = 0x4000_000B;
    public const uint Platform = 0x4000_000C;
}

/// <summary>TPMA_OBJECT (Part 2, 8.3).</summary>
[Flags]
internal enum TpmaObject : uint
{
    None = 0,
    FixedTpm = 1u << 1,
    StClear = 1u << 2,
    FixedParent = 1u << 4,
    SensitiveDataOrigin = 1u << 5,
    UserWithAuth = 1u << 6,
    AdminWithPolicy = 1u << 7,
    NoDa = 1u << 10,
    EncryptedDuplication = 1u << 11,
    Restricted = 1u << 16,
    Decrypt = 1u << 17,
    Sign = 1u << 18,
}

/// <summary>TPMA_SESSION (Part 2, 8.4).</summary>
[Flags]
internal enum TpmaSession : byte
{
    None = 0,
    ContinueSession = 0x01,
    AuditExclusive = 0x02,
    AuditReset = 0x04,
    Decrypt = 0x20,
    Encrypt = 0x40,
    Audit = 0x80,
}
