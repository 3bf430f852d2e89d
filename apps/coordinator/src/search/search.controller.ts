import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { RequireRole } from '@odb/auth';
import { BbkValidator } from '@odb/validation';
import { rejectInvalid } from '../common/bbk-request';

/**
 * Case-insensitive prefix searches for the portal. Unlike BitBroker, `q` is a
 * literal prefix (LIKE with escaped wildcards), not a regular expression.
 */
@ApiTags('search')
@ApiSecurity('token')
@RequireRole('coordinator')
@Controller('search')
export class SearchController {
  private readonly validator = new BbkValidator();

  constructor(private readonly dataSource: DataSource) {}

  @Get('user/organization')
  @ApiOperation({ summary: 'Distinct user organizations starting with q' })
  @ApiQuery({ name: 'q', description: '1 to 16 characters' })
  organizations(@Query('q') q?: string) {
    return this.search(q, `SELECT DISTINCT organization AS value FROM users WHERE lower(organization) LIKE $1 ESCAPE '\\' ORDER BY 1`);
  }

  @Get('entity/tags')
  @ApiOperation({ summary: 'Distinct entity type tags starting with q' })
  @ApiQuery({ name: 'q', description: '1 to 16 characters' })
  entityTags(@Query('q') q?: string) {
    return this.search(q, tagQuery('entity_type'));
  }

  @Get('policy/tags')
  @ApiOperation({ summary: 'Distinct policy tags starting with q' })
  @ApiQuery({ name: 'q', description: '1 to 16 characters' })
  policyTags(@Query('q') q?: string) {
    return this.search(q, tagQuery('policy'));
  }

  private async search(q: unknown, sql: string): Promise<string[]> {
    const term = (typeof q === 'string' ? q : '').toLowerCase();
    rejectInvalid(this.validator.check(term, 'searchTerm', 'search'));
    const prefix = `${term.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
    const rows: Array<{ value: string }> = await this.dataSource.query(sql, [prefix]);
    return rows.map((row) => row.value);
  }
}

function tagQuery(table: 'entity_type' | 'policy'): string {
  return `SELECT DISTINCT tag AS value FROM ${table}, jsonb_array_elements_text(tags) AS tag
          WHERE lower(tag) LIKE $1 ESCAPE '\\' ORDER BY 1`;
}
