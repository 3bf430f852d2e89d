import { Module } from '@nestjs/common';
import { DcatController } from './dcat.controller';
import { DcatReader } from './dcat-reader';

/** The DCAT-AP feed of the platform's catalog (`GET /dcat/catalog`). */
@Module({ controllers: [DcatController], providers: [DcatReader] })
export class DcatModule {}
